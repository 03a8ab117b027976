"""The lab's Placement API under /placement, the JSON real placement-api answers (openstack-placement
16: placement/handlers/root.py home, resource_provider.py _serialize_provider, inventory.py
_serialize_inventories, usage.py _serialize_usages, allocation_candidate.py
_transform_allocation_candidates, util.py json_error_formatter; microversions 1.0 to 1.39 through
the ``OpenStack-API-Version: placement X.Y`` header, placement/microversion.py)."""
from __future__ import annotations

from . import placement

MIN, MAX = (1, 0), (1, 39)
PREFIX = "/placement"


class PlacementError(Exception):
    def __init__(self, status: int, title: str, detail: str, code: str = "placement.undefined_code"):
        super().__init__(detail)
        self.status, self.title, self.detail, self.code = status, title, detail, code


def version(headers) -> tuple[int, int]:
    for item in (headers.get("OpenStack-API-Version") or "").split(","):
        svc, _, ver = item.strip().partition(" ")
        if svc.lower() == "placement" and ver.strip():
            ver = ver.strip()
            if ver == "latest":
                return MAX
            try:
                major, _, minor = ver.partition(".")
                wanted = (int(major), int(minor))
            except ValueError:
                raise PlacementError(400, "Bad Request", f"invalid version string: {ver}") from None
            if not MIN <= wanted <= MAX:
                raise PlacementError(406, "Not Acceptable", f"Unacceptable version header: {ver}")
            return wanted
    return MIN


def error_body(exc: PlacementError, mv: tuple[int, int] | None, request_id: str) -> dict:
    err = {"status": exc.status, "title": exc.title, "detail": exc.detail, "request_id": request_id}
    if mv is not None and mv >= (1, 23):
        err["code"] = exc.code
    if exc.status == 406:
        err.update({"max_version": "%d.%d" % MAX, "min_version": "%d.%d" % MIN})
    return {"errors": [err]}


def root() -> dict:
    return {"versions": [{"id": "v1.0", "max_version": "%d.%d" % MAX, "min_version": "%d.%d" % MIN,
                          "status": "CURRENT", "links": [{"rel": "self", "href": ""}]}]}


def _links(p: dict, mv) -> list[dict]:
    url = f"{PREFIX}/resource_providers/{p['uuid']}"
    rels = ["inventories", "usages"] + (["aggregates"] if mv >= (1, 1) else []) + \
        (["traits"] if mv >= (1, 6) else []) + (["allocations"] if mv >= (1, 11) else [])
    return [{"rel": "self", "href": url}] + [{"rel": r, "href": f"{url}/{r}"} for r in rels]


def _provider(p: dict, mv) -> dict:
    data = {"uuid": p["uuid"], "name": p["name"], "generation": _generation(p), "links": _links(p, mv)}
    if mv >= (1, 14):
        data.update({"parent_provider_uuid": None, "root_provider_uuid": p["uuid"]})
    return data


def _generation(p: dict) -> int:
    # nova-compute's first update_provider_tree sets the inventory, then the traits: generation 2
    return 2


def _get(cloud, rp_uuid: str) -> dict:
    p = placement.find(cloud, rp_uuid)
    if p is None:
        raise PlacementError(404, "Not Found", f"No resource provider with uuid {rp_uuid} found",
                             "placement.undefined_code")
    return p


def list_providers(cloud, query: dict, mv) -> dict:
    out = []
    for p in placement.providers(cloud):
        if "name" in query and p["name"] != query["name"][0]:
            continue
        if "uuid" in query and p["uuid"] != query["uuid"][0]:
            continue
        out.append(_provider(p, mv))
    return {"resource_providers": out}


def get_provider(cloud, rp_uuid: str, mv) -> dict:
    return _provider(_get(cloud, rp_uuid), mv)


def inventories(cloud, rp_uuid: str) -> dict:
    p = _get(cloud, rp_uuid)
    return {"resource_provider_generation": _generation(p), "inventories": placement.inventory(cloud, p)}


def usages(cloud, rp_uuid: str) -> dict:
    p = _get(cloud, rp_uuid)
    return {"resource_provider_generation": _generation(p), "usages": placement.usages(cloud, p)}


def provider_traits(cloud, rp_uuid: str) -> dict:
    p = _get(cloud, rp_uuid)
    return {"resource_provider_generation": _generation(p), "traits": placement.traits(p)}


def _parse_resources(text: str) -> dict[str, int]:
    out = {}
    for item in text.split(","):
        rc, sep, amount = item.partition(":")
        if not sep or not rc.strip():
            raise PlacementError(400, "Bad Request", f"Badly formed resources parameter. Expected resources "
                                 f"query string parameter in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: {text}.",
                                 "placement.query.bad_value")
        try:
            out[rc.strip()] = int(amount)
        except ValueError:
            raise PlacementError(400, "Bad Request", f"Requested resource {rc.strip()} expected positive integer "
                                 f"amount. Got: {amount}.", "placement.query.bad_value") from None
    return out


def allocation_candidates(cloud, query: dict, mv) -> dict:
    if mv < (1, 10):
        raise PlacementError(404, "Not Found", "The resource could not be found.")
    if "resources" not in query:
        raise PlacementError(400, "Bad Request", "JSON does not validate: 'resources' is a required property",
                             "placement.query.missing_value")
    wanted = _parse_resources(query["resources"][0])
    forbidden = tuple(t[1:] for t in ",".join(query.get("required", [])).split(",") if t.startswith("!"))
    required = tuple(t for t in ",".join(query.get("required", [])).split(",") if t and not t.startswith("!"))
    found = [p for p in placement.candidates(cloud, wanted, forbidden)
             if set(required) <= set(placement.traits(p))]
    requests, summaries = [], {}
    for p in found:
        allocs = {p["uuid"]: {"resources": dict(wanted)}}
        if mv >= (1, 12):
            req = {"allocations": allocs}
            if mv >= (1, 34):
                req["mappings"] = {"": [p["uuid"]]}
        else:
            req = {"allocations": [{"resource_provider": {"uuid": p["uuid"]}, "resources": dict(wanted)}]}
        requests.append(req)
        inv, used = placement.inventory(cloud, p), placement.usages(cloud, p)
        classes = inv if mv >= (1, 27) else wanted
        summary = {"resources": {rc: {"capacity": placement.capacity(inv[rc]), "used": used[rc]}
                                 for rc in classes if rc in inv}}
        if mv >= (1, 17):
            summary["traits"] = placement.traits(p)
        if mv >= (1, 29):
            summary.update({"parent_provider_uuid": None, "root_provider_uuid": p["uuid"]})
        summaries[p["uuid"]] = summary
    return {"allocation_requests": requests, "provider_summaries": summaries}
