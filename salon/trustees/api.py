"""API: trustee terms, the bureau's draw, and a trustee's device's steps of the key ceremony and of a closed poll's
decryption (the same services as the pages; docs/sealed-ballots.md, "Integration")."""
from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from salon.accounts.auth import require_bureau
from salon.api.schemas import DateTime, Strict
from salon.trustees import limits, services

blp = Blueprint("api_trustees", __name__, description="Trustees of the sealed ballots: terms, key ceremony, "
                                                        "decryption")


class TermSchema(Strict):
    id = fields.Int()
    term = fields.Str(metadata={"description": "the key's term string, bound into every proof: p<programme>-k<id>"})
    kind = fields.Str(metadata={"description": "committee (the bureau and the sitting members) or drawn (the "
                                               "bureau and three secretaries drawn by lot)"})
    state = fields.Str(metadata={"description": "announced, dealing, sharing, checking, ready, failed"})
    threshold = fields.Int(metadata={"description": "k: trustees needed to decrypt (n - 1)"})
    trustees = fields.Int(metadata={"description": "n"})
    seed = fields.Str(allow_none=True, metadata={"description": "a drawn term's seed, published before the draw"})
    started_at = DateTime(allow_none=True)
    ready_at = DateTime(allow_none=True)
    ends_at = DateTime(allow_none=True, metadata={"description": "a drawn term serves until then"})
    retired_at = DateTime(allow_none=True, metadata={"description": "no longer seals new polls"})
    public_key = fields.Str(allow_none=True)
    deadline = DateTime(allow_none=True, metadata={
        "description": "when the ceremony's current step ends (dealing, sharing, checking; null otherwise): the "
                       "trustees who have not done it by then are dropped and the others restart"})


class TrusteeStateSchema(Strict):
    index = fields.Int()
    name = fields.Str()
    community = fields.Str(metadata={"description": "a secretary's community at the start; empty for the bureau"})
    dealt = fields.Bool()
    shared = fields.Bool()
    confirmed = fields.Bool()
    transport_key = fields.Str(allow_none=True, metadata={"description": "compressed secp256k1 point (hex)"})
    commitments = fields.List(fields.Str(), allow_none=True)


class ShareOutSchema(Strict):
    dealer = fields.Int()
    ciphertext = fields.Str()


class ComplaintSchema(Strict):
    by = fields.Int(metadata={"description": "the complainer's index"})
    against = fields.Int(metadata={"description": "the dealer's index"})
    verdict = fields.Str(metadata={"description": "upheld (the share failed: the dealer is dropped, the ceremony "
                                                  "restarts) or rejected (the share checks out: it goes on)"})
    reason = fields.Str(metadata={"description": "does-not-open, fails-check or checks"})
    share = fields.Str(allow_none=True, metadata={
        "description": "a rejected complaint's share, as opened from the evidence: the complainer uses it"})


class CeremonySchema(Strict):
    term = fields.Str()
    id = fields.Int()
    round = fields.Int(metadata={"description": "starts at 1; an upheld complaint restarts the ceremony in the next "
                                                "round without the dealer, a missed deadline without the late"})
    state = fields.Str(metadata={"description": "dealing, sharing, checking, ready, or failed (fewer than three "
                                                "trustees left)"})
    threshold = fields.Int()
    me = fields.Int(allow_none=True, metadata={"description": "your trustee index; null if you are none"})
    trustees = fields.List(fields.Nested(TrusteeStateSchema), metadata={
        "description": "the trustees still in the ceremony"})
    dropped = fields.List(fields.Int(), metadata={
        "description": "indexes dropped after an upheld complaint or a missed deadline"})
    deadline = DateTime(allow_none=True, metadata={
        "description": "when the current step ends (null outside dealing, sharing, checking): the trustees who "
                       "have not done it by then are dropped and the others restart"})
    shares = fields.List(fields.Nested(ShareOutSchema), metadata={
        "description": "the shares dealt to you, encrypted to your transport key (from the checking step)"})
    public_key = fields.Str(allow_none=True)
    complaints = fields.List(fields.Nested(ComplaintSchema), metadata={"description": "this round's complaints"})


class BranchSchema(Strict):
    c = fields.Str(required=True)
    s = fields.Str(required=True)


class DealingSchema(Strict):
    round = fields.Int(load_default=None, strict=True)
    transport_key = fields.Str(required=True, validate=validate.Length(equal=limits.TRANSPORT_KEY_HEX))
    commitments = fields.List(fields.Str(), required=True, validate=validate.Length(max=limits.MAX_TRUSTEES))
    proofs = fields.List(fields.Dict(), required=True, validate=validate.Length(max=limits.MAX_TRUSTEES))


class ShareInSchema(Strict):
    recipient = fields.Int(required=True, strict=True)
    ciphertext = fields.Str(required=True, validate=validate.Length(equal=limits.SHARE_CIPHERTEXT_HEX))


class SharesSchema(Strict):
    round = fields.Int(load_default=None, strict=True)
    shares = fields.List(fields.Nested(ShareInSchema), required=True,
                         validate=validate.Length(max=limits.MAX_TRUSTEES))


class ConfirmSchema(Strict):
    round = fields.Int(load_default=None, strict=True)
    public_key = fields.Str(required=True, validate=validate.Length(equal=limits.TRANSPORT_KEY_HEX))


class ProofSchema(Strict):
    c = fields.Str(required=True, validate=validate.Length(equal=64))
    s = fields.Str(required=True, validate=validate.Length(equal=64))


class EvidenceSchema(Strict):
    shared_point = fields.Str(required=True, validate=validate.Length(equal=limits.TRANSPORT_KEY_HEX), metadata={
        "description": "S = your transport secret times the dealer's transport key (compressed point, hex)"})
    proof = fields.Nested(ProofSchema, required=True, metadata={
        "description": "Chaum–Pedersen proof that S and your transport key share their discrete log "
                       "(docs/sealed-ballots.md, \"Complaints, decided by evidence\")"})


class ComplainSchema(Strict):
    round = fields.Int(load_default=None, strict=True)
    dealer = fields.Int(required=True, strict=True)
    evidence = fields.Nested(EvidenceSchema, required=True)


class DecryptionRequestSchema(Strict):
    trustee = fields.Int(metadata={"description": "your index: the `trustee` of your factors"})
    request = fields.Dict(metadata={"description": "poll (proof context), public_key, questions (blank: true for "
                                                   "an approval question's blank position, last), tally, "
                                                   "undecrypted, protocol (salon-sealed-2; absent for a poll of "
                                                   "salon-sealed-1): all trusteeFactors (sealed.js) needs"})


class DecryptionSchema(Strict):
    decryption = fields.Dict(required=True, metadata={
        "description": "{trustee, factors: [[{factor, proof: {c, s}}…]…]} as trusteeFactors computes it"})


class CountedSchema(Strict):
    counted = fields.Bool(metadata={"description": "the poll's counts are now published (k trustees decrypted)"})


def _term_out(term) -> dict:
    return {"id": term.id, "term": term.key_term, "kind": term.kind, "state": term.state,
            "threshold": term.threshold, "trustees": len(term.active), "seed": term.seed,
            "started_at": term.started_at, "ready_at": term.ready_at, "ends_at": term.ends_at,
            "retired_at": term.retired_at, "public_key": term.key_record["public_key"] if term.key_record else None,
            "deadline": term.deadline}


def _term(term_id):
    """The term, its step's deadline applied if it has come (services.enforce_deadline)."""
    term = services.get_term(term_id, g.api_user.programme_id)
    services.enforce_deadline(term)
    return term


def _state(term) -> dict:
    return services.device_state(term, services.trustee_of(term, g.api_user))


@blp.route("/trustees/terms")
class Terms(MethodView):
    @blp.response(200, TermSchema(many=True))
    def get(self):
        """The programme's terms of trustees, newest first (the last 20)."""
        services.advance(g.api_user.programme)
        return [_term_out(t) for t in services.terms(g.api_user.programme_id)]

    @blp.response(201, TermSchema)
    def post(self):
        """Announce a drawn term (bureau): its seed is published now, the draw follows (POST …/draw)."""
        me = require_bureau()
        return _term_out(services.announce_draw(me.programme, me))


@blp.route("/trustees/terms/<int:term_id>")
class TermItem(MethodView):
    @blp.response(200, CeremonySchema)
    def get(self, term_id):
        """A term's ceremony: each trustee's progress and public parts; for a trustee, the shares dealt to them."""
        return _state(_term(term_id))


@blp.route("/trustees/terms/<int:term_id>/draw")
class TermDraw(MethodView):
    @blp.response(200, TermSchema)
    def post(self, term_id):
        """Draw an announced term's trustees (bureau): the bureau member drawing and three secretaries."""
        me = require_bureau()
        return _term_out(services.draw(_term(term_id), me))


@blp.route("/trustees/terms/<int:term_id>/dealing")
class TermDealing(MethodView):
    @blp.arguments(DealingSchema)
    @blp.response(200, CeremonySchema)
    def post(self, data, term_id):
        """Step 1 (a trustee): your transport key, k commitments and their proofs of knowledge."""
        term = _term(term_id)
        services.post_dealing(term, g.api_user, data["transport_key"], data["commitments"], data["proofs"],
                              data["round"])
        return _state(term)


@blp.route("/trustees/terms/<int:term_id>/shares")
class TermShares(MethodView):
    @blp.arguments(SharesSchema)
    @blp.response(200, CeremonySchema)
    def post(self, data, term_id):
        """Step 2 (a trustee): your share for each other trustee, AES-GCM encrypted to their transport key."""
        term = _term(term_id)
        services.post_shares(term, g.api_user, data["shares"], data["round"])
        return _state(term)


@blp.route("/trustees/terms/<int:term_id>/confirm")
class TermConfirm(MethodView):
    @blp.arguments(ConfirmSchema)
    @blp.response(200, CeremonySchema)
    def post(self, data, term_id):
        """Step 3 (a trustee): your shares checked out; the joint key you computed."""
        term = _term(term_id)
        services.confirm(term, g.api_user, data["public_key"], data["round"])
        return _state(term)


@blp.route("/trustees/terms/<int:term_id>/complaint")
class TermComplaint(MethodView):
    @blp.arguments(ComplainSchema)
    @blp.response(200, CeremonySchema)
    def post(self, data, term_id):
        """Step 3, otherwise (a trustee): the share of `dealer` failed, with the evidence that opens it. Decided at
        once: upheld, the dealer is dropped and the ceremony restarts without them; rejected, it goes on."""
        term = _term(term_id)
        services.complain(term, g.api_user, data["dealer"], data["evidence"], data["round"])
        return _state(term)


@blp.route("/trustees/terms/<int:term_id>/polls/<int:poll_id>/decryption")
class TermDecryption(MethodView):
    @blp.response(200, DecryptionRequestSchema)
    def get(self, term_id, poll_id):
        """What your device needs to decrypt a closed poll's sums (a trustee who has not decrypted it yet)."""
        return services.decryption_request_for(_term(term_id), g.api_user, poll_id)

    @blp.arguments(DecryptionSchema)
    @blp.response(200, CountedSchema)
    def post(self, data, term_id, poll_id):
        """Your factors of a closed poll's sums, each with its proof (checked by the ballot engine)."""
        return {"counted": services.decrypt(_term(term_id), g.api_user, poll_id, data["decryption"])}
