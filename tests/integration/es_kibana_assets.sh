#!/bin/bash
# labels: es
# timeout: 60
#   kibana_saved_objects_are_consistent: packaging/kibana/logferry-kibana.ndjson is what
#     make_saved_objects.py writes; each line is one saved object (type, id, attributes,
#     references); every reference resolves to an object of the file; every dashboard panel
#     has its reference; every Lens layer references the data view; and every field a panel
#     uses is mapped by the index template `logferry setup` installs, with a type that fits
#     the operation (terms on keyword, percentiles on long, date histogram on date). The data
#     view's pattern is the default index's template pattern.
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/es_lib.sh"
lf_setup
K=$SRC_DIR/packaging/kibana
python3 "$K/make_saved_objects.py" >"$T/regen.ndjson"
cmp -s "$T/regen.ndjson" "$K/logferry-kibana.ndjson" || fail "logferry-kibana.ndjson is stale: rerun make_saved_objects.py"
es_start
cat >"$T/agent.conf" <<CONF
[agent]
data_dir = $T/data
[input app]
paths = $T/logs/*.log
[output elasticsearch]
hosts = http://127.0.0.1:$ES_PORT
CONF
"$LOGFERRY" setup -c "$T/agent.conf" >"$T/setup.out" 2>&1 || { cat "$T/setup.out"; fail "setup failed"; }
curl -sf "http://127.0.0.1:$ES_PORT/_standin/setup" >"$T/setup.json"
python3 - "$K/logferry-kibana.ndjson" "$T/setup.json" <<'PY' || fail "saved objects inconsistent"
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
tpl = json.load(open(sys.argv[2]))["templates"]["logferry"]
def mapped(props, prefix=""):
    for k, v in props.items():
        if "properties" in v:
            yield from mapped(v["properties"], prefix + k + ".")
        else:
            yield prefix + k, v.get("type", "object")
types = dict(mapped(tpl["template"]["mappings"]["properties"]))
byid = {}
for o in objs:
    assert set(o) >= {"type", "id", "attributes", "references"}, o.keys()
    assert (o["type"], o["id"]) not in byid, "duplicate " + o["id"]
    byid[(o["type"], o["id"])] = o
for o in objs:
    for r in o["references"]:
        assert (r["type"], r["id"]) in byid, f"{o['id']}: dangling reference {r}"
dv = [o for o in objs if o["type"] == "index-pattern"]
assert len(dv) == 1 and dv[0]["attributes"]["title"] in tpl["index_patterns"], (dv, tpl["index_patterns"])
assert dv[0]["attributes"]["timeFieldName"] == "@timestamp"
json.loads(dv[0]["attributes"]["fieldFormatMap"])
fits = {"terms": {"keyword"}, "percentile": {"long"}, "date_histogram": {"date"}}
nlens = 0
for o in objs:
    if o["type"] != "lens":
        continue
    nlens += 1
    st = o["attributes"]["state"]
    refnames = {r["name"] for r in o["references"]}
    for lid, layer in st["datasourceStates"]["indexpattern"]["layers"].items():
        assert "indexpattern-datasource-layer-" + lid in refnames, (o["id"], lid)
        assert set(layer["columnOrder"]) == set(layer["columns"]), o["id"]
        for cid, c in layer["columns"].items():
            for ref in c.get("references", []):
                assert ref in layer["columns"], (o["id"], cid, ref)
            f = c.get("sourceField")
            if f and f != "Records":
                assert f in types, f"{o['id']}: {f} is not mapped by the template"
                want = fits.get(c["operationType"])
                assert not want or types[f] in want, f"{o['id']}: {c['operationType']} on {f} ({types[f]})"
            ob = c.get("params", {}).get("orderBy", {})
            if ob.get("type") == "column":
                assert layer["columns"][ob["columnId"]]["operationType"] not in ("formula", "math"), o["id"]
        vis = st["visualization"]
        used = set()
        for l in vis.get("layers", []):
            assert l["layerId"] == lid
            used |= set(l["accessors"]) | {l.get("xAccessor"), l.get("splitAccessor")} - {None}
        for c in vis.get("columns", []):
            used.add(c["columnId"])
        assert used <= set(layer["columns"]), (o["id"], used - set(layer["columns"]))
dash = [o for o in objs if o["type"] == "dashboard"]
assert len(dash) == 1 and dash[0]["attributes"]["title"] == "WAS overview"
panels = json.loads(dash[0]["attributes"]["panelsJSON"])
refs = {r["name"]: r for r in dash[0]["references"]}
assert len(panels) == nlens == 4
for p in panels:
    assert p["panelRefName"] in refs and refs[p["panelRefName"]]["type"] == p["type"], p
    assert set(p["gridData"]) >= {"x", "y", "w", "h", "i"} and p["gridData"]["i"] == p["panelIndex"]
print(f"{len(objs)} saved objects consistent with the template ({len(types)} mapped fields)")
PY
echo "PASS es_kibana_assets"
