// Compiled with `tsc --noEmit --strict` against the types openapi-typescript generates from
// openapi/openapi.json (tests/contract/test_generated_clients.py): what a TypeScript client of
// the API writes, which must keep compiling as the document changes.
import type { components, operations, paths } from "./schema";

type Schemas = components["schemas"];
type Json<T> = T extends { content: { "application/json": infer B } } ? B : never;

// A page of problems, and a field of its items.
type ListProblems = paths["/api/v1/problems"]["get"];
type ProblemItem = Json<ListProblems["responses"]["200"]>["items"][number];
const affected: ProblemItem["my_practice_affected"] = true;
const query: NonNullable<ListProblems["parameters"]["query"]> = {
  limit: 25,
  sort: "hot",
  status: "open",
};
const page: Json<ListProblems["responses"]["200"]> = { items: [], next_cursor: null };

// Post a problem: the body, the 201 with its Location and ETag, and the error answers.
type CreateProblem = paths["/api/v1/problems"]["post"];
const create: CreateProblem["requestBody"]["content"]["application/json"] = {
  board_id: 2,
  title: "Discharge letters arrive a week late",
  body: "Letters reach us 5 to 9 days after discharge.",
};
const location: CreateProblem["responses"]["201"]["headers"]["Location"] = "/api/v1/problems/1";
const created: Json<CreateProblem["responses"]["201"]> = {
  id: 1,
  board: { id: 2, kind: "pcn", name: "Riverside PCN" },
  title: create.title,
  excerpt: create.body,
  tags: [],
  status: "open",
  author: null, // nullable: anonymous
  practice: { id: 7, name: "Riverside Surgery" },
  anonymity: "person",
  affected_count: 1,
  my_practice_affected: affected,
  comment_count: 0,
  created_at: "2026-11-22T09:30:00Z",
  updated_at: "2026-11-22T09:30:00Z",
  can_edit: true,
  body: create.body,
  body_html: "<p>Letters reach us 5 to 9 days after discharge.</p>",
  hidden: false,
  accepted_comment_id: null,
  workstreams: [], // the workstreams that took it on (that the reader reads)
  library_entries: [], // the library entries it became (that the reader sees)
};
const tooLarge: Json<CreateProblem["responses"]["413"]> = {
  code: 413,
  status: "Request Entity Too Large",
  message: "The data value transmitted exceeds the capacity limit.",
};
const invalid: Schemas["Error"] = {
  code: 422,
  status: "Unprocessable Entity",
  message: "title: Length must be between 1 and 200.",
  errors: { json: { title: ["Length must be between 1 and 200."] } },
};
const retryAfter: operations["createProblem"]["responses"]["503"]["headers"]["Retry-After"] = "1";
const badRequest: Json<operations["listProblems"]["responses"]["400"]> = invalid;
const longTarget: Json<operations["getProblem"]["responses"]["414"]> = invalid;

// One problem by id, a comment, an organisation, a member.
type GetProblem = paths["/api/v1/problems/{problem_id}"]["get"];
const problemId: GetProblem["parameters"]["path"]["problem_id"] = created.id;
const comment: Json<operations["createComment"]["responses"]["201"]> = {
  id: 1,
  kind: "idea",
  body: "Ask the ward.",
  body_html: "<p>Ask the ward.</p>",
  author: null,
  practice: null,
  anonymity: "practice",
  accepted: false,
  created_at: "2026-11-22T09:30:00Z",
};
const organisation: Schemas["Organisation"] = {
  id: 1,
  kind: "federation",
  name: "Riverside Federation",
  ods_code: null,
  parent_id: null,
  active: true,
};
const invite: Schemas["MemberCreate"] = { email: "sam.jones@riverside.example" };
const redaction: Schemas["RedactionIn"] = { text: "PDFs" }; // `replacement` has a default
// @ts-expect-error an organisation's kind is one of three
const hospital: Schemas["Organisation"]["kind"] = "hospital";

// The issuer: a form-encoded token request, its answer and errors, UserInfo.
const tokenRequest: operations["getToken"]["requestBody"]["content"]["application/x-www-form-urlencoded"] =
  {
    grant_type: "authorization_code",
    code: "4mN1bS6HqfJz0Qk2f3uM",
    code_verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    client_id: "commons-demo-spa",
  };
const tokens: Json<operations["getToken"]["responses"]["200"]> = {
  access_token: "eyJ.e30.c2ln",
  token_type: "Bearer",
  expires_in: 900,
};
const refused: Json<operations["getToken"]["responses"]["400"]> = { error: "invalid_grant" };
const me: Json<operations["getUserInfo"]["responses"]["200"]> = { sub: "42" };

export const used = [
  query,
  page,
  location,
  tooLarge,
  retryAfter,
  badRequest,
  longTarget,
  problemId,
  comment,
  organisation,
  invite,
  redaction,
  hospital,
  tokenRequest,
  tokens,
  refused,
  me,
];
