#!/usr/bin/env python3
"""make_saved_objects.py - writes logferry-kibana.ndjson, the Kibana 8 saved objects for
logferry's Elasticsearch output: a data view over logferry-* and the "WAS overview"
dashboard of four Lens panels (requests per host, 5xx rate per host, top paths with 5xx,
latency percentiles from event.duration).

The objects are written at the Kibana 8.0.0 migration level (Lens datasource "indexpattern",
count over "Records"), so every Kibana 8.x imports them and migrates them forward.
Run: python3 packaging/kibana/make_saved_objects.py > packaging/kibana/logferry-kibana.ndjson
"""
import json
import sys

DV = "logferry-data-view"
PATTERN = "logferry-*"
V = "8.0.0"


def lens(oid, title, vis_type, layer, columns, order, visualization, query=""):
    return {
        "type": "lens", "id": oid,
        "attributes": {
            "title": title, "description": "", "visualizationType": vis_type,
            "state": {
                "datasourceStates": {"indexpattern": {"layers": {layer: {
                    "columns": columns, "columnOrder": order, "incompleteColumns": {}}}}},
                "visualization": visualization,
                "query": {"query": query, "language": "kuery"},
                "filters": [],
            },
        },
        "references": [
            {"type": "index-pattern", "id": DV, "name": "indexpattern-datasource-current-indexpattern"},
            {"type": "index-pattern", "id": DV, "name": "indexpattern-datasource-layer-" + layer},
        ],
        "migrationVersion": {"lens": V}, "coreMigrationVersion": V,
    }


def col_time():
    return {"label": "@timestamp", "dataType": "date", "operationType": "date_histogram",
            "sourceField": "@timestamp", "isBucketed": True, "scale": "interval",
            "params": {"interval": "auto"}}


def col_terms(field, label, size, order_col):
    # terms ranked by a count column, or alphabetically when order_col is None (a formula
    # column cannot rank terms: it is computed after the aggregation)
    order = {"type": "column", "columnId": order_col} if order_col else {"type": "alphabetical"}
    return {"label": label, "dataType": "string", "operationType": "terms", "scale": "ordinal",
            "sourceField": field, "isBucketed": True, "customLabel": True,
            "params": {"size": size, "orderBy": order,
                       "orderDirection": "desc" if order_col else "asc", "otherBucket": True,
                       "missingBucket": False}}


def col_count(label, kql=None):
    c = {"label": label, "dataType": "number", "operationType": "count", "isBucketed": False,
         "scale": "ratio", "sourceField": "Records", "customLabel": True}
    if kql:
        c["filter"] = {"query": kql, "language": "kuery"}
    return c


def col_pct(p):
    return {"label": "p%d" % p, "dataType": "number", "operationType": "percentile",
            "sourceField": "event.duration", "isBucketed": False, "scale": "ratio",
            "customLabel": True, "params": {"percentile": p}}


def xy(layer, series, x, accessors, split=None):
    l = {"layerId": layer, "accessors": accessors, "position": "top", "seriesType": series,
         "showGridlines": False, "layerType": "data", "xAccessor": x}
    if split:
        l["splitAccessor"] = split
    return {"legend": {"isVisible": True, "position": "right"}, "valueLabels": "hide",
            "fittingFunction": "None", "preferredSeriesType": series, "layers": [l]}


objs = []
objs.append({
    "type": "index-pattern", "id": DV,
    "attributes": {
        "title": PATTERN, "timeFieldName": "@timestamp",
        "fieldFormatMap": json.dumps({"event.duration": {"id": "duration", "params": {
            "inputFormat": "nanoseconds", "outputFormat": "asMilliseconds", "outputPrecision": 1}}}),
    },
    "references": [],
    "migrationVersion": {"index-pattern": "7.11.0"}, "coreMigrationVersion": V,
})

# 1. requests per host: stacked bars over time, one series per host.name
L = "layer-requests"
objs.append(lens("logferry-requests-per-host", "Requests per host", "lnsXY", L,
                 {"host": col_terms("host.name", "Host", 10, "count"), "time": col_time(),
                  "count": col_count("Requests")},
                 ["host", "time", "count"], xy(L, "bar_stacked", "time", ["count"], "host")))

# 2. 5xx rate per host: formula count(kql='status >= 500') / count(), a line per host
L = "layer-5xx"
F = "count(kql='http.response.status_code >= 500') / count()"
rate = {
    "rateX0": col_count("Part of 5xx rate", "http.response.status_code >= 500"),
    "rateX1": col_count("Part of 5xx rate"),
    "rateX2": {"label": "Part of 5xx rate", "dataType": "number", "operationType": "math",
               "isBucketed": False, "scale": "ratio", "customLabel": True,
               "params": {"tinymathAst": {"type": "function", "name": "divide",
                                          "args": ["rateX0", "rateX1"],
                                          "location": {"min": 0, "max": len(F)}, "text": F}},
               "references": ["rateX0", "rateX1"]},
    "rate": {"label": "5xx rate", "dataType": "number", "operationType": "formula",
             "isBucketed": False, "scale": "ratio", "customLabel": True,
             "params": {"formula": F, "isFormulaBroken": False,
                        "format": {"id": "percent", "params": {"decimals": 1}}},
             "references": ["rateX2"]},
}
cols = {"host": col_terms("host.name", "Host", 10, None), "time": col_time()}
cols.update(rate)
objs.append(lens("logferry-5xx-rate-per-host", "5xx rate per host", "lnsXY", L, cols,
                 ["host", "time", "rate", "rateX0", "rateX1", "rateX2"],
                 xy(L, "line", "time", ["rate"], "host")))

# 3. top paths with 5xx: a table of url.path x host.name, only 5xx responses
L = "layer-paths"
objs.append(lens("logferry-top-5xx-paths", "Top paths with 5xx", "lnsDatatable", L,
                 {"path": col_terms("url.path", "Path", 20, "count"),
                  "host": col_terms("host.name", "Host", 5, "count"),
                  "count": col_count("5xx responses")},
                 ["path", "host", "count"],
                 {"layerId": L, "layerType": "data",
                  "columns": [{"columnId": "path"}, {"columnId": "host"}, {"columnId": "count"}],
                  "sorting": {"columnId": "count", "direction": "desc"}},
                 query="http.response.status_code >= 500"))

# 4. latency percentiles of event.duration (nanoseconds in ECS; shown in ms by the data view)
L = "layer-latency"
objs.append(lens("logferry-latency-percentiles", "Latency percentiles (event.duration)", "lnsXY", L,
                 {"time": col_time(), "p50": col_pct(50), "p95": col_pct(95), "p99": col_pct(99)},
                 ["time", "p50", "p95", "p99"], xy(L, "line", "time", ["p50", "p95", "p99"]),
                 query="event.duration:*"))

panels, refs = [], []
grid = [(0, 0), (24, 0), (0, 15), (24, 15)]
for (x, y), o in zip(grid, objs[1:]):
    pid = o["id"].replace("logferry-", "p-")
    panels.append({"version": V, "type": "lens", "gridData": {"x": x, "y": y, "w": 24, "h": 15, "i": pid},
                   "panelIndex": pid, "embeddableConfig": {"enhancements": {}}, "panelRefName": "panel_" + pid})
    refs.append({"name": "panel_" + pid, "type": "lens", "id": o["id"]})
objs.append({
    "type": "dashboard", "id": "logferry-was-overview",
    "attributes": {
        "title": "WAS overview", "description": "logferry: requests, 5xx and latency per host",
        "panelsJSON": json.dumps(panels, separators=(",", ":")),
        "optionsJSON": json.dumps({"useMargins": True, "hidePanelTitles": False}),
        "version": 1, "timeRestore": True, "timeFrom": "now-24h", "timeTo": "now",
        "refreshInterval": {"pause": False, "value": 60000},
        "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps(
            {"query": {"query": "", "language": "kuery"}, "filter": []})},
    },
    "references": refs,
    "migrationVersion": {"dashboard": "8.0.0"}, "coreMigrationVersion": V,
})
for o in objs:
    sys.stdout.write(json.dumps(o, separators=(",", ":"), sort_keys=False) + "\n")
