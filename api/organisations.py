"""The organisation tree and its members."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import fields, validate

from api.blueprint import MAX_ID, Blueprint
from api.context import principal, uow
from api.schemas import (
    In,
    Out,
    PageQuery,
    StrictBoolean,
    StrictInteger,
    UTCDateTime,
    page_of,
)
from api.spec import EXAMPLES, LOCATION_HEADER, location
from network.organisations import services as organisations
from network.organisations.models import OrganisationKind
from network.people import services as people
from network.people.models import Role, StaffGroup

blp = Blueprint(
    "organisations",
    __name__,
    url_prefix="/api/v1/organisations",
    description="Federations, PCNs and practices, and their members.",
)

NAME = fields.String(validate=validate.Length(min=1, max=200))
ODS_CODE = fields.String(
    validate=validate.Regexp(
        r"^[A-Za-z0-9]{3,16}$", error="An ODS code is 3 to 16 letters or digits."
    ),
    allow_none=True,
    metadata={"description": "NHS Organisation Data Service code, e.g. A81001 or U12345."},
)


class OrganisationSchema(Out):
    id = fields.Integer()
    kind = fields.Enum(OrganisationKind)
    name = fields.String()
    ods_code = fields.String(allow_none=True)
    parent_id = fields.Integer(allow_none=True)
    active = fields.Boolean()


class OrganisationQuery(PageQuery):
    kind = fields.Enum(OrganisationKind)
    parent_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    q = fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Part of the name or ODS code, any case."},
    )


class OrganisationCreateSchema(In):
    kind = fields.Enum(OrganisationKind, required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    parent_id = StrictInteger(
        allow_none=True,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "Required except for federations."},
    )
    ods_code = ODS_CODE


class OrganisationUpdateSchema(In):
    name = NAME
    ods_code = ODS_CODE
    parent_id = StrictInteger(validate=validate.Range(min=1, max=MAX_ID))
    active = StrictBoolean()


class MemberPersonSchema(Out):
    id = fields.Integer()
    name = fields.String()
    email = fields.String()
    staff_group = fields.Enum(StaffGroup)


class IdentitySchema(Out):
    issuer = fields.String()
    roles = fields.List(
        fields.Dict(),
        metadata={"description": "CIS2 `nhsid_nrbac_roles` as last seen; grant nothing."},
    )
    last_seen_at = UTCDateTime()


class MemberSchema(Out):
    person = fields.Nested(MemberPersonSchema)
    role = fields.Enum(Role)
    identities = fields.List(
        fields.Nested(IdentitySchema),
        dump_default=list,
        metadata={
            "description": "The person's NHS sign-in identities: shown to the organisation's "
            "administrators, empty for everyone else."
        },
    )


class MemberCreateSchema(In):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    name = fields.String(validate=validate.Length(min=1, max=200))
    role = fields.Enum(Role, load_default=Role.member)
    staff_group = fields.Enum(StaffGroup)


class MemberUpdateSchema(In):
    role = fields.Enum(Role, required=True)


@blp.route("")
class Organisations(MethodView):
    @blp.doc(
        operationId="listOrganisations",
        summary="The organisations of your federations (all of them, for superusers).",
    )
    @blp.arguments(OrganisationQuery, location="query", as_kwargs=True)
    @blp.response(200, page_of(OrganisationSchema), example=EXAMPLES["organisation_page"])
    @blp.alt_response(401, response="UNAUTHORIZED")
    def get(self, limit, cursor=None, **filters):
        return organisations.get_all(uow(), principal(), limit=limit, cursor=cursor, **filters)

    @blp.doc(
        operationId="createOrganisation",
        summary="Create a PCN or practice (its parent's administrators) or a federation "
        "(superusers).",
    )
    @blp.arguments(OrganisationCreateSchema, example=EXAMPLES["organisation_create"])
    @blp.response(
        201, OrganisationSchema, headers=LOCATION_HEADER, example=EXAMPLES["organisation"]
    )
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND", description="The parent does not exist.")
    @blp.alt_response(409, response="CONFLICT", description="The ODS code is taken.")
    def post(self, data):
        organisation = organisations.create(uow(), principal(), **data)
        where = location("organisations.OrganisationById", organisation_id=organisation.id)
        return organisation, 201, where


@blp.route("/<id:organisation_id>")
class OrganisationById(MethodView):
    @blp.doc(operationId="getOrganisation", summary="One organisation.")
    @blp.response(200, OrganisationSchema, example=EXAMPLES["organisation"])
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, organisation_id):
        return organisations.get(uow(), principal(), organisation_id)

    @blp.doc(
        operationId="updateOrganisation",
        summary="Rename, recode, move or (de)activate an organisation (its administrators).",
    )
    @blp.arguments(OrganisationUpdateSchema)
    @blp.response(200, OrganisationSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="The ODS code is taken.")
    def patch(self, changes, organisation_id):
        return organisations.update(uow(), principal(), organisation_id, **changes)


@blp.route("/<id:organisation_id>/members")
class Members(MethodView):
    @blp.doc(
        operationId="listMembers",
        summary="The organisation's members (for its own members and its administrators).",
    )
    @blp.arguments(PageQuery, location="query", as_kwargs=True)
    @blp.response(200, page_of(MemberSchema))
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, organisation_id, limit, cursor=None):
        return people.list_members(uow(), principal(), organisation_id, limit=limit, cursor=cursor)

    @blp.doc(
        operationId="addMember",
        summary="Invite a person by email (created when new); idempotent for the same email.",
        description="201 when the membership is new, 200 with the existing one otherwise.",
    )
    @blp.arguments(MemberCreateSchema, example=EXAMPLES["member_invite"])
    @blp.response(
        201,
        MemberSchema,
        description="The person is now a member.",
        headers=LOCATION_HEADER,
        example=EXAMPLES["member"],
    )
    @blp.alt_response(200, schema=MemberSchema, description="The person was already a member.")
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data, organisation_id):
        membership, created = people.add_member(uow(), principal(), organisation_id, **data)
        if not created:
            return membership, 200
        where = location(
            "organisations.MemberById",
            organisation_id=organisation_id,
            person_id=membership.person_id,
        )
        return membership, 201, where


@blp.route("/<id:organisation_id>/members/<id:person_id>")
class MemberById(MethodView):
    @blp.doc(operationId="updateMember", summary="Change a member's role (administrators).")
    @blp.arguments(MemberUpdateSchema)
    @blp.response(200, MemberSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(self, data, organisation_id, person_id):
        return people.update_member(uow(), principal(), organisation_id, person_id, **data)

    @blp.doc(operationId="removeMember", summary="End a membership (administrators).")
    @blp.response(204)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, organisation_id, person_id):
        people.remove_member(uow(), principal(), organisation_id, person_id)
