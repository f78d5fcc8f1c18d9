"""A workstream's measures, the points practices post to them, and their SPC charts the NHS
"Making Data Count" way."""

from __future__ import annotations

from flask import Response, request
from flask.views import MethodView
from marshmallow import ValidationError, fields, validate, validates_schema

from api import remembered
from api.blueprint import Blueprint
from api.context import principal, uow
from api.problems import ID, NamedSchema
from api.schemas import (
    In,
    Out,
    PageQuery,
    Query,
    StrictBoolean,
    StrictInteger,
    UTCDateTime,
    page_of,
)
from api.spec import LOCATION_HEADER, location
from network import content
from network.measures import charts, queries, services
from network.measures.models import Aggregate, Better

blp = Blueprint(
    "measures",
    __name__,
    url_prefix="/api/v1",
    description="Measures of a workstream: points per practice and period, SPC charts (XmR, "
    "NHS England's Making Data Count rules and icons), a summary per practice.",
)

PERIODS = fields.List(
    fields.Date(),
    validate=validate.Length(max=services.REBASES),
    metadata={"description": "Where a change was introduced: limits are worked out afresh."},
)
FIX_AFTER = StrictInteger(
    allow_none=True,
    validate=validate.Range(min=services.MIN_FIX_AFTER, max=1000),
    metadata={"description": "Limits fixed from each segment's first N (12 or more) points."},
)
NUMBER = fields.Float(allow_nan=False, validate=validate.Range(min=-1e12, max=1e12))


class MeasureSchema(Out):
    id = fields.Integer()
    workstream_id = fields.Integer()
    name = fields.String()
    unit = fields.String()
    better = fields.Enum(Better)
    target = fields.Float(allow_none=True)
    aggregate = fields.Enum(
        Aggregate,
        metadata={
            "description": "How practices' points make the network's: sum, mean, or ratio "
            "(a percentage: 100·Σ numerators / Σ denominators)."
        },
    )
    rebase_periods = fields.List(fields.Date(), attribute="rebase_dates")
    fix_after = fields.Integer(allow_none=True)
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class MeasureCreateSchema(In):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    unit = fields.String(required=True, validate=validate.Length(min=1, max=40))
    better = fields.Enum(Better, required=True)
    target = fields.Float(allow_none=True, allow_nan=False)
    aggregate = fields.Enum(Aggregate, metadata={"description": "Default `mean`."})
    rebase_periods = PERIODS
    fix_after = FIX_AFTER


class MeasureUpdateSchema(In):
    name = fields.String(validate=validate.Length(min=1, max=200))
    unit = fields.String(validate=validate.Length(min=1, max=40))
    better = fields.Enum(Better)
    target = fields.Float(allow_none=True, allow_nan=False)
    rebase_periods = PERIODS
    fix_after = FIX_AFTER


class PointIn(In):
    practice_id = StrictInteger(
        **ID, metadata={"description": "Default: your practice (when you have one taking part)."}
    )
    period = fields.Date(required=True)
    value = NUMBER
    denominator = fields.Float(
        allow_nan=False,
        validate=validate.Range(min=0, min_inclusive=False, max=1e12),
        metadata={"description": "Ratio measures only."},
    )

    @validates_schema
    def _value_given(self, data, **kwargs):
        if "value" not in data:
            raise ValidationError("Missing data for required field.", "value")


class PointsIn(In):
    """One point (`{practice_id?, period, value}`), or many (`{points: [...]}`)."""

    body_optional = True  # a text/csv body instead (the parser reads JSON only)
    practice_id = StrictInteger(**ID)
    period = fields.Date()
    value = NUMBER
    denominator = fields.Float(
        allow_nan=False, validate=validate.Range(min=0, min_inclusive=False, max=1e12)
    )
    points = fields.List(
        fields.Nested(PointIn), validate=validate.Length(min=1, max=services.MAX_POINTS)
    )

    @validates_schema
    def _one_or_many(self, data, **kwargs):
        single = {"practice_id", "period", "value", "denominator"} & set(data)
        if "points" in data and single:
            raise ValidationError("Either one point or `points`, not both.", "points")
        if "points" not in data and single and not {"period", "value"} <= single:
            raise ValidationError("A point has a period and a value.", "period")


RULE = fields.String(validate=validate.OneOf(["astronomical", "shift", "trend", "two_of_three"]))


class PostedSignalSchema(Out):
    practice = fields.Nested(
        NamedSchema, allow_none=True, metadata={"description": "Null: the network's series."}
    )
    period = fields.Date(metadata={"description": "The series' latest point."})
    variation = fields.String(
        metadata={
            "description": "improvement_high, improvement_low, concern_high, concern_low, "
            "neutral_high or neutral_low."
        }
    )
    rules = fields.List(RULE, metadata={"description": "The rules that fired for that point."})


class PostedSchema(Out):
    posted = fields.Integer(
        attribute="count", metadata={"description": "Points stored (new or replacing)."}
    )
    signals = fields.List(
        fields.Nested(PostedSignalSchema),
        metadata={
            "description": "Special-cause signals these points completed: series (the "
            "network's, and each practice's posted for) whose latest point now shows special "
            "cause it did not show before. Each is recorded as activity (`measure_signal`)."
        },
    )


class SpcQuery(Query):
    practice_id = fields.Integer(**ID, metadata={"description": "Default: the network's series."})
    screen_outliers = StrictBoolean(
        load_default=False,
        metadata={
            "description": "Screen moving ranges as NHSRplotthedots does (default: as "
            "NHS England's tool, unscreened)."
        },
    )


class SpcPointSchema(Out):
    period = fields.Date()
    value = fields.Float()
    practices = fields.Integer(metadata={"description": "Practices whose values it combines."})
    segment = fields.Integer(metadata={"description": "Index into `segments`."})
    signals = fields.List(RULE)
    point_type = fields.String(
        metadata={"description": "common_cause, improvement, concern or neutral."}
    )


class SegmentSchema(Out):
    from_ = fields.Date(data_key="from", attribute="from_period")
    points = fields.Integer(attribute="size")
    limits = fields.Boolean()
    mean = fields.Float()
    mr_mean = fields.Float(allow_none=True)
    ucl = fields.Float(allow_none=True)
    lcl = fields.Float(allow_none=True)
    upper_2sigma = fields.Float(allow_none=True)
    lower_2sigma = fields.Float(allow_none=True)


class SpcSchema(Out):
    measure = fields.Nested(MeasureSchema)
    practice = fields.Nested(
        NamedSchema, allow_none=True, metadata={"description": "Null: the network's series."}
    )
    points = fields.List(fields.Nested(SpcPointSchema))
    segments = fields.List(fields.Nested(SegmentSchema))
    mean = fields.Float(allow_none=True)
    mr_mean = fields.Float(allow_none=True)
    ucl = fields.Float(allow_none=True)
    lcl = fields.Float(allow_none=True)
    limits = fields.Boolean(
        metadata={"description": "False: fewer than 12 points in the last segment, a run chart."}
    )
    variation = fields.String(allow_none=True)
    assurance = fields.String(allow_none=True)


class LatestSchema(Out):
    period = fields.Date()
    value = fields.Float()


class SummaryItemSchema(Out):
    practice = fields.Nested(
        NamedSchema,
        attribute="organisation",
        metadata={"description": "For the network: its owner."},
    )
    network = fields.Boolean(metadata={"description": "The network's own series (first)."})
    latest = fields.Nested(LatestSchema, allow_none=True)
    variation = fields.String(attribute="chart.variation", allow_none=True)
    assurance = fields.String(attribute="chart.assurance", allow_none=True)


class SummarySchema(Out):
    items = fields.List(fields.Nested(SummaryItemSchema))
    next_cursor = fields.String(allow_none=True, metadata={"description": "Always null."})


def spc_body(found: queries.MeasureChart) -> dict:
    chart = found.chart
    points = [
        {
            "period": p.period,
            "value": p.value,
            "practices": s.practices,
            "segment": p.segment,
            "signals": list(p.signals),
            "point_type": p.point_type,
        }
        for p, s in zip(chart.points, found.series, strict=True)
    ]
    return {
        "measure": found.measure,
        "practice": found.practice,
        "points": points,
        "segments": chart.segments,
        "mean": chart.mean,
        "mr_mean": chart.mr_mean,
        "ucl": chart.ucl,
        "lcl": chart.lcl,
        "limits": chart.limits,
        "variation": chart.variation,
        "assurance": chart.assurance,
    }


@blp.route("/workstreams/<id:workstream_id>/measures")
class Measures(MethodView):
    @blp.doc(operationId="listMeasures", summary="A workstream's measures, oldest first.")
    @blp.arguments(PageQuery, location="query", as_kwargs=True)
    @blp.response(200, page_of(MeasureSchema))
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, workstream_id, limit, cursor=None):
        return queries.get_all(uow(), principal(), workstream_id, limit=limit, cursor=cursor)

    @blp.doc(operationId="createMeasure", summary="Define a measure (the managers).")
    @blp.arguments(MeasureCreateSchema)
    @blp.response(201, MeasureSchema, headers=LOCATION_HEADER)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data, workstream_id):
        measure = services.create(uow(), principal(), workstream_id, **data)
        here = location("measures.MeasureById", workstream_id=workstream_id, measure_id=measure.id)
        return measure, 201, here


@blp.route("/workstreams/<id:workstream_id>/measures/<id:measure_id>")
class MeasureById(MethodView):
    @blp.doc(operationId="getMeasure", summary="One measure.")
    @blp.response(200, MeasureSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, workstream_id, measure_id):
        return services.get(uow(), principal(), workstream_id, measure_id)[1]

    @blp.doc(
        operationId="updateMeasure",
        summary="Rename, retarget or rebase a measure (the managers); its aggregate stays.",
    )
    @blp.arguments(MeasureUpdateSchema)
    @blp.response(200, MeasureSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(self, changes, workstream_id, measure_id):
        return services.update(uow(), principal(), workstream_id, measure_id, **changes)


@blp.route("/workstreams/<id:workstream_id>/measures/<id:measure_id>/points")
class Points(MethodView):
    @blp.doc(
        operationId="postMeasurePoints",
        summary="Post points: one, many (`points`), or a CSV `period,value[,practice_ods_code]` "
        "(text/csv); a practice's value for a period replaces the one before.",
        # text/csv is described here, not as a second content type: openapi-python-client
        # generates a client that does not import for a body of two content types.
        description="The body is JSON, or a CSV with `Content-Type: text/csv`: lines "
        "`period,value[,practice_ods_code]`, or a header line naming the columns `period`, "
        "`value`, `denominator` (ratio measures) and `practice_ods_code`. All or nothing: one "
        "bad point refuses the lot, naming it.",
    )
    @blp.arguments(PointsIn)
    @blp.response(200, PostedSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data, workstream_id, measure_id):
        if request.mimetype == "text/csv":
            text = request.get_data(as_text=True)
            points = services.parse_csv(uow(), text)
        elif "points" in data:
            points = [services.PointIn(**p) for p in data["points"]]
        elif data:
            points = [services.PointIn(**data)]
        else:
            points = []
        return services.post_points(uow(), principal(), workstream_id, measure_id, points)


@blp.route("/workstreams/<id:workstream_id>/measures/<id:measure_id>/spc")
class Spc(MethodView):
    @blp.doc(
        operationId="getMeasureSpc",
        summary="The XmR chart of a practice's series, or the network's: limits per segment, "
        "each point's signals, the variation and assurance icons.",
    )
    @blp.arguments(SpcQuery, location="query", as_kwargs=True)
    @blp.response(200, SpcSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, workstream_id, measure_id, **query):
        def compute() -> remembered.Body:
            body = spc_body(_chart(workstream_id, measure_id, **query))
            return remembered.json_body(SpcSchema().dump(body))

        key = ("spc", workstream_id, measure_id, *sorted(query.items()))
        return remembered.respond(key, [content.workstream(workstream_id)], compute)


@blp.route("/workstreams/<id:workstream_id>/measures/<id:measure_id>/summary")
class Summary(MethodView):
    @blp.doc(
        operationId="getMeasureSummary",
        summary="The network's series, then each practice by name: the latest value and the "
        "two icons (not a league table).",
    )
    @blp.response(200, SummarySchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, workstream_id, measure_id):
        rows = queries.summary(uow(), principal(), workstream_id, measure_id)
        return {"items": rows, "next_cursor": None}


def _chart(workstream_id, measure_id, **query) -> queries.MeasureChart:
    """The chart the spc routes show, as the query asks (`practice_id`, `screen_outliers`)."""
    return queries.chart(uow(), principal(), workstream_id, measure_id, **query)


def _figure(workstream_id, measure_id, **query):
    return queries.figure(_chart(workstream_id, measure_id, **query))


def _image(body: bytes, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blp.route("/workstreams/<id:workstream_id>/measures/<id:measure_id>/spc.svg")
class SpcSvg(MethodView):
    @blp.doc(
        operationId="getMeasureSpcSvg",
        summary="The SPC chart as SVG, for the app.",
        responses={
            "200": {
                "description": "The chart.",
                "content": {"image/svg+xml": {"schema": {"type": "string"}}},
            }
        },
    )
    @blp.arguments(SpcQuery, location="query", as_kwargs=True)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, workstream_id, measure_id, **query):
        figure = _figure(workstream_id, measure_id, **query)
        return _image(charts.svg(figure), "image/svg+xml")


@blp.route("/workstreams/<id:workstream_id>/measures/<id:measure_id>/spc.png")
class SpcPng(MethodView):
    @blp.doc(
        operationId="getMeasureSpcPng",
        summary="The SPC chart as PNG, for email (600 px wide, at twice the density).",
        responses={
            "200": {
                "description": "The chart.",
                "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
            }
        },
    )
    @blp.arguments(SpcQuery, location="query", as_kwargs=True)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, workstream_id, measure_id, **query):
        figure = _figure(workstream_id, measure_id, **query)
        return _image(charts.png(figure), "image/png")
