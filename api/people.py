"""The caller's own profile and digest preferences."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import fields, validate

from api.blueprint import Blueprint
from api.context import current_person, principal, uow
from api.schemas import In, Out, PageQuery, StrictBoolean, StrictInteger, page_of
from network.digests import services as digests
from network.digests.models import DigestContent, Frequency
from network.organisations import services as organisations
from network.organisations.models import OrganisationKind
from network.people import services as people
from network.people.models import Role, StaffGroup
from network.signin import totp as signin

blp = Blueprint("me", __name__, url_prefix="/api/v1/me", description="The signed-in person.")

STAFF_GROUP = fields.Enum(StaffGroup, metadata={"description": "The person's staff group."})


class OrganisationRefSchema(Out):
    id = fields.Integer()
    kind = fields.Enum(OrganisationKind)
    name = fields.String()
    ods_code = fields.String(allow_none=True)


class MembershipOfMeSchema(Out):
    organisation = fields.Nested(OrganisationRefSchema)
    role = fields.Enum(Role)


class MeSchema(Out):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    staff_group = STAFF_GROUP
    is_superuser = fields.Boolean()
    mfa_enabled = fields.Boolean(metadata={"description": "Two-step sign-in (TOTP) is on."})
    memberships = fields.List(fields.Nested(MembershipOfMeSchema))


class MeUpdateSchema(In):
    name = fields.String(validate=validate.Length(min=1, max=200))
    staff_group = fields.Enum(StaffGroup)


class NotifySchema(Out):
    action_assigned = fields.Boolean(
        metadata={"description": "An email when an action is assigned to you."}
    )
    agenda = fields.Boolean(
        metadata={"description": "A workstream's agenda two hours before its huddle."}
    )


class DigestPreferenceSchema(Out):
    frequency = fields.Enum(Frequency)
    weekday = StrictInteger(
        validate=validate.Range(min=0, max=6), metadata={"description": "0 is Monday."}
    )
    hour = StrictInteger(validate=validate.Range(min=0, max=23))
    timezone = fields.String(
        validate=validate.Length(min=1, max=64), metadata={"example": "Europe/London"}
    )
    content = fields.Enum(DigestContent)
    notify = fields.Nested(
        NotifySchema,
        metadata={"description": "Emails that cannot wait a period, each with its own opt-out."},
    )


class NotifyInSchema(In):
    action_assigned = StrictBoolean()
    agenda = StrictBoolean()


class DigestPreferenceInSchema(In):
    frequency = fields.Enum(Frequency, required=True)
    weekday = StrictInteger(
        required=True,
        validate=validate.Range(min=0, max=6),
        metadata={"description": "0 is Monday."},
    )
    hour = StrictInteger(required=True, validate=validate.Range(min=0, max=23))
    timezone = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"example": "Europe/London"},
    )
    content = fields.Enum(DigestContent, required=True)
    notify = fields.Nested(
        NotifyInSchema, metadata={"description": "Left as it was when not sent."}
    )


def _me() -> dict:
    person = current_person()
    return {
        "id": person.id,
        "email": person.email,
        "name": person.name,
        "staff_group": person.staff_group,
        "is_superuser": person.is_superuser,
        "mfa_enabled": person.totp_enabled,
        "memberships": people.memberships_of(uow(), person.id),
    }


@blp.route("")
class Me(MethodView):
    @blp.doc(operationId="getMe", summary="The signed-in person and their memberships.")
    @blp.response(200, MeSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    def get(self):
        return _me()

    @blp.doc(operationId="updateMe", summary="Change your name or staff group.")
    @blp.arguments(MeUpdateSchema)
    @blp.response(200, MeSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    def patch(self, changes):
        people.update_profile(uow(), principal(), **changes)
        return _me()


class MyBoardSchema(Out):
    id = fields.Integer(attribute="organisation.id")
    kind = fields.Enum(OrganisationKind, attribute="organisation.kind")
    name = fields.String(attribute="organisation.name")
    parent_id = fields.Integer(attribute="organisation.parent_id", allow_none=True)
    can_post = fields.Boolean(metadata={"description": "You may post problems on it."})
    can_administer = fields.Boolean(
        metadata={"description": "You administer its organisation (moderation, members)."}
    )


@blp.route("/boards")
class MyBoards(MethodView):
    @blp.doc(
        operationId="listMyBoards",
        summary="Every board you can read: your organisations and their ancestors, by name.",
    )
    @blp.arguments(PageQuery, location="query", as_kwargs=True)
    @blp.response(200, page_of(MyBoardSchema))
    @blp.alt_response(401, response="UNAUTHORIZED")
    def get(self, limit, cursor=None):
        return organisations.get_boards(uow(), principal(), limit=limit, cursor=cursor)


@blp.route("/digest")
class MyDigest(MethodView):
    @blp.doc(operationId="getMyDigestPreference", summary="Your digest schedule and content.")
    @blp.response(200, DigestPreferenceSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    def get(self):
        return digests.get_preference(uow(), principal())

    @blp.doc(operationId="setMyDigestPreference", summary="Replace your digest preference.")
    @blp.arguments(DigestPreferenceInSchema)
    @blp.response(200, DigestPreferenceSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    def put(self, preference):
        return digests.set_preference(uow(), principal(), **preference)


class MfaSetupSchema(Out):
    secret = fields.String(metadata={"description": "Base32 secret, for typing in by hand."})
    otpauth_uri = fields.String(metadata={"description": "otpauth:// URI, for a QR code."})


class MfaCodeSchema(In):
    code = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9 ]{6,8}$", error="The code is 6 digits."),
        metadata={"description": "The current code from the authenticator app."},
    )


@blp.route("/mfa")
class MyMfa(MethodView):
    @blp.doc(
        operationId="startMfa",
        summary="Start setting up two-step sign-in: a new secret, on once confirmed.",
    )
    @blp.response(200, MfaSetupSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(409, response="CONFLICT", description="Two-step sign-in is already on.")
    def post(self):
        secret, uri = signin.start_totp(uow(), current_person())
        return {"secret": secret, "otpauth_uri": uri}

    @blp.doc(operationId="disableMfa", summary="Turn two-step sign-in off (not for superusers).")
    @blp.arguments(MfaCodeSchema)
    @blp.response(204)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(409, response="CONFLICT", description="It is off, or you are a superuser.")
    def delete(self, data):
        signin.disable_totp(uow(), current_person(), data["code"])


@blp.route("/mfa/confirm")
class MyMfaConfirm(MethodView):
    @blp.doc(operationId="confirmMfa", summary="Turn two-step sign-in on with a first code.")
    @blp.arguments(MfaCodeSchema)
    @blp.response(200, MeSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(409, response="CONFLICT", description="Set-up was not started.")
    def post(self, data):
        signin.confirm_totp(uow(), current_person(), data["code"])
        return _me()
