#!/usr/bin/env python3
"""Writes the Grafana dashboards of Switchboard 12333 (monitoring/grafana/*.json).

The JSON files are generated so that the three dashboards stay consistent (one data-source
variable, the same units and thresholds, no overlapping panels) and are checked in; CI
(tests/monitoring) fails when a checked-in file differs from what this script writes.
Edit here, run `python3 monitoring/grafana/generate.py`, commit both.

Every query uses the metric names of docs/metrics.md or the recorded series of
monitoring/rules/switchboard-recording.yml (load those rules into Prometheus).
Python 3 standard library only.
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DS = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
SCHEMA_VERSION = 39
ANSWERED_20S_TARGET = 0.65  # the ministry's 2013 figure (context.md)


# ---------------------------------------------------------------------------------------
# Building blocks

class Layout:
    """Places panels left to right on Grafana's 24-column grid, wrapping rows."""

    def __init__(self):
        self.panels = []
        self.x = 0
        self.y = 0
        self.row_h = 0
        self.next_id = 1

    def _place(self, panel, w, h):
        if self.x + w > 24:
            self.x, self.y, self.row_h = 0, self.y + self.row_h, 0
        panel["gridPos"] = {"h": h, "w": w, "x": self.x, "y": self.y}
        panel["id"] = self.next_id
        self.next_id += 1
        self.x += w
        self.row_h = max(self.row_h, h)
        self.panels.append(panel)
        return panel

    def row(self, title):
        if self.x:
            self.x, self.y, self.row_h = 0, self.y + self.row_h, 0
        panel = {"type": "row", "title": title, "collapsed": False, "panels": []}
        self._place(panel, 24, 1)
        self.x, self.y, self.row_h = 0, self.y + 1, 0
        return panel

    def add(self, panel, w, h):
        return self._place(panel, w, h)


def target(expr, legend="__auto", ref="A", instant=False, fmt="time_series"):
    t = {"datasource": DS, "refId": ref, "expr": expr, "legendFormat": legend,
         "range": not instant, "instant": instant, "editorMode": "code"}
    if fmt != "time_series":
        t["format"] = fmt
    return t


def targets(*specs, **kw):
    """(expr, legend) pairs -> targets with refIds A, B, C..."""
    return [target(expr, legend, chr(ord("A") + i), **kw) for i, (expr, legend) in enumerate(specs)]


def thresholds(*steps):
    """steps: (value or None, colour) from the lowest up."""
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for v, c in steps]}


def field_config(unit, decimals=None, min_=None, max_=None, steps=None, links=None, custom=None):
    d = {"unit": unit}
    if decimals is not None:
        d["decimals"] = decimals
    if min_ is not None:
        d["min"] = min_
    if max_ is not None:
        d["max"] = max_
    d["thresholds"] = steps or thresholds((None, "green"))
    d["color"] = {"mode": "thresholds" if steps else "palette-classic"}
    if links:
        d["links"] = links
    if custom:
        d["custom"] = custom
    return {"defaults": d, "overrides": []}


def timeseries(title, tgts, unit="short", description="", stack=False, min_=None, max_=None,
               steps=None):
    custom = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10 if stack else 0,
              "showPoints": "never", "spanNulls": False,
              "stacking": {"mode": "normal" if stack else "none", "group": "A"}}
    if steps:
        custom["thresholdsStyle"] = {"mode": "line"}
    fc = field_config(unit, min_=min_, max_=max_, steps=steps, custom=custom)
    fc["defaults"]["color"] = {"mode": "palette-classic"}
    return {"type": "timeseries", "title": title, "description": description, "datasource": DS,
            "targets": tgts, "fieldConfig": fc,
            "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                        "tooltip": {"mode": "multi", "sort": "desc"}}}


def stat(title, expr, unit="short", description="", steps=None, decimals=None, legend="__auto",
         text_mode="auto"):
    return {"type": "stat", "title": title, "description": description, "datasource": DS,
            "targets": [target(expr, legend, instant=True)],
            "fieldConfig": field_config(unit, decimals=decimals, steps=steps),
            "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                        "colorMode": "background" if steps else "value", "graphMode": "none",
                        "justifyMode": "auto", "orientation": "auto", "textMode": text_mode}}


def table(title, tgts, description="", unit="short", overrides=None, links=None, sort_by=None,
          organize=None):
    fc = field_config(unit, links=links)
    fc["overrides"] = overrides or []
    panel = {"type": "table", "title": title, "description": description, "datasource": DS,
             "targets": tgts, "fieldConfig": fc,
             "options": {"showHeader": True, "cellHeight": "sm",
                         "footer": {"show": False, "reducer": ["sum"], "countRows": False}},
             "transformations": [{"id": "merge", "options": {}}]}
    if organize:
        panel["transformations"].append({"id": "organize", "options": organize})
    if sort_by:
        panel["options"]["sortBy"] = [{"displayName": sort_by, "desc": False}]
    return panel


def column(name, unit, steps=None, display=None, cell="color-background"):
    props = [{"id": "unit", "value": unit}]
    if display:
        props.append({"id": "displayName", "value": display})
    if steps:
        props += [{"id": "thresholds", "value": steps},
                  {"id": "custom.cellOptions", "value": {"type": cell}}]
    return {"matcher": {"id": "byName", "options": name}, "properties": props}


def bargauge(title, tgts, unit="short", min_=None, max_=None, steps=None, description=""):
    return {"type": "bargauge", "title": title, "description": description, "datasource": DS,
            "targets": tgts, "fieldConfig": field_config(unit, min_=min_, max_=max_, steps=steps),
            "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                        "orientation": "horizontal", "displayMode": "gradient",
                        "showUnfilled": True, "valueMode": "color"}}


def ds_variable():
    return {"name": "DS_PROMETHEUS", "label": "Data source", "type": "datasource",
            "query": "prometheus", "current": {}, "hide": 0, "refresh": 1, "regex": "",
            "options": [], "skipUrlSync": False}


def query_variable(name, label, query, multi=False, include_all=False, all_value=None):
    v = {"name": name, "label": label, "type": "query", "datasource": DS,
         "definition": query, "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
         "refresh": 2, "sort": 1, "multi": multi, "includeAll": include_all, "current": {},
         "hide": 0, "regex": "", "options": [], "skipUrlSync": False}
    if all_value is not None:
        v["allValue"] = all_value
    return v


def dashboard(uid, title, description, layout, variables, tags=("switchboard", "12333")):
    return {
        "annotations": {"list": [{
            "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
            "name": "Annotations & Alerts", "type": "dashboard"}]},
        "description": description,
        "editable": True,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,
        "id": None,
        "links": [{"title": "Switchboard", "type": "dashboards", "tags": ["switchboard"],
                   "asDropdown": True, "includeVars": False, "keepTime": True,
                   "icon": "external link", "targetBlank": False, "tooltip": "", "url": ""}],
        "panels": layout.panels,
        "refresh": "30s",
        "schemaVersion": SCHEMA_VERSION,
        "tags": list(tags),
        "templating": {"list": [ds_variable()] + variables},
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "timezone": "browser",
        "title": title,
        "uid": uid,
        "version": 1,
        "weekStart": "",
    }


PERCENT_20S = thresholds((None, "red"), (ANSWERED_20S_TARGET, "green"))
PERCENT_ASR = thresholds((None, "red"), (0.6, "yellow"), (0.8, "green"))
PERCENT_ABANDON = thresholds((None, "green"), (0.15, "yellow"), (0.2, "red"))
UP_STEPS = thresholds((None, "red"), (1, "green"))

TRUNK_LINK = [{"title": "Trunk ${__data.fields.trunk}",
               "url": "/d/switchboard-trunk/switchboard-12333-trunk?var-trunk=${__data.fields.trunk}&${__url_time_range}&${DS_PROMETHEUS:queryparam}"}]


# ---------------------------------------------------------------------------------------
# National overview by province

def national():
    L = Layout()
    prov = 'province=~"$province"'
    in_province = ' and on (trunk) trunk:switchboard_trunk_info:max{%s}' % prov
    L.row("Nation (every call once, last hour)")
    L.add(stat("Calls offered (1 h)", ":switchboard_calls:increase1h", "short", decimals=0,
               description="Call records of the last hour (answered + abandoned + failed), all gateways."), 4, 4)
    L.add(stat("Answered", ":switchboard_calls_answered:ratio1h", "percentunit", steps=PERCENT_ASR,
               description="Answered calls / calls offered, last hour."), 4, 4)
    L.add(stat("Answered within 20 s", ":switchboard_calls_answered_within_20s:ratio1h", "percentunit",
               steps=PERCENT_20S,
               description="Calls answered within 20 s of the INVITE / calls offered, last hour. "
                           "The ministry's 2013 figure was 65 %."), 4, 4)
    L.add(stat("Answered within 30 s", ":switchboard_calls_answered_within_30s:ratio1h", "percentunit",
               steps=PERCENT_20S), 4, 4)
    L.add(stat("Abandoned", ":switchboard_calls_abandoned:ratio1h", "percentunit", steps=PERCENT_ABANDON,
               description="The caller hung up before an answer / calls offered, last hour "
                           "(2014 nationally: 20.2 %)."), 4, 4)
    L.add(stat("Active calls", "sum(switchboard_active_calls)", "short", decimals=0), 2, 4)
    L.add(stat("Gateways up", 'sum(up{job="switchboard"})', "short", decimals=0,
               steps=UP_STEPS), 2, 4)
    L.add(timeseries("Calls by result", targets(("result:switchboard_calls:rate5m", "{{result}}")),
                     "reqps", stack=True,
                     description="Call records per second (5 min rate), all gateways."), 12, 8)
    L.add(timeseries("Quality (1 h)", targets(
        (":switchboard_calls_answered_within_20s:ratio1h", "answered within 20 s"),
        (":switchboard_calls_answered:ratio1h", "answered"),
        (":switchboard_calls_abandoned:ratio1h", "abandoned"),
        (":switchboard_trunk_asr:ratio1h", "ASR (attempts)"),
        (":switchboard_trunk_ner:ratio1h", "NER (attempts)")),
        "percentunit", min_=0, max_=1,
        steps=thresholds((None, "transparent"), (ANSWERED_20S_TARGET, "green"))), 12, 8)

    L.row("By destination province")
    L.add(table("Provinces (last hour)", targets(
        ('province:switchboard_trunks_up:sum{%s}' % prov, ""),
        ('province:switchboard_trunks:count{%s}' % prov, ""),
        ('sum by (province) (province_direction:switchboard_trunk_calls:increase1h{direction="out", %s})' % prov, ""),
        ('province:switchboard_trunk_asr:ratio1h{%s}' % prov, ""),
        ('province:switchboard_trunk_ner:ratio1h{%s}' % prov, ""),
        ('province:switchboard_trunk_answered_within_20s:ratio1h{%s}' % prov, ""),
        ('province:switchboard_trunk_answered_within_30s:ratio1h{%s}' % prov, ""),
        ('province:switchboard_trunk_abandon:ratio1h{%s}' % prov, ""),
        instant=True, fmt="table"),
        description="Per destination province (the province of the trunk a call was sent to; "
                    "abandon: of the calls from the province's trunks). Attempts count every "
                    "trunk tried, so a call that failed over counts at each.",
        overrides=[column("Value #A", "short", UP_STEPS, "trunks up"),
                   column("Value #B", "short", display="trunks"),
                   column("Value #C", "short", display="attempts"),
                   column("Value #D", "percentunit", PERCENT_ASR, "ASR"),
                   column("Value #E", "percentunit", PERCENT_ASR, "NER"),
                   column("Value #F", "percentunit", PERCENT_20S, "≤ 20 s"),
                   column("Value #G", "percentunit", PERCENT_20S, "≤ 30 s"),
                   column("Value #H", "percentunit", PERCENT_ABANDON, "abandoned")],
        organize={"excludeByName": {"Time": True}}, sort_by="province"), 24, 10)
    L.add(timeseries("Attempts by province", targets(
        ('sum by (province) (province_direction_result:switchboard_trunk_calls:rate5m{direction="out", %s})' % prov,
         "{{province}}")), "reqps", stack=True), 12, 8)
    L.add(timeseries("Answered within 20 s by province (1 h)", targets(
        ('province:switchboard_trunk_answered_within_20s:ratio1h{%s}' % prov, "{{province}}")),
        "percentunit", min_=0, max_=1,
        steps=thresholds((None, "transparent"), (ANSWERED_20S_TARGET, "red"))), 12, 8)
    L.add(timeseries("ASR by province (1 h)", targets(
        ('province:switchboard_trunk_asr:ratio1h{%s}' % prov, "{{province}}")),
        "percentunit", min_=0, max_=1), 12, 8)
    L.add(timeseries("Abandoned by origin province (1 h)", targets(
        ('province:switchboard_trunk_abandon:ratio1h{%s}' % prov, "{{province}}")),
        "percentunit", min_=0, max_=1,
        steps=thresholds((None, "transparent"), (0.2, "red"))), 12, 8)

    L.row("Trunks")
    L.add(table("Trunks (last hour) — click a trunk for its dashboard", targets(
        ('trunk:switchboard_trunk_info:max{%s}' % prov, ""),
        ('trunk:switchboard_trunk_up:max' + in_province, ""),
        ('sum by (trunk) (trunk_direction:switchboard_trunk_calls:increase1h{direction="out"})' + in_province, ""),
        ('trunk:switchboard_trunk_asr:ratio1h' + in_province, ""),
        ('trunk:switchboard_trunk_answered_within_20s:ratio1h' + in_province, ""),
        ('trunk:switchboard_trunk_abandon:ratio1h' + in_province, ""),
        instant=True, fmt="table"),
        overrides=[column("Value #A", "short"),
                   column("Value #B", "short", UP_STEPS, "up"),
                   column("Value #C", "short", display="attempts"),
                   column("Value #D", "percentunit", PERCENT_ASR, "ASR"),
                   column("Value #E", "percentunit", PERCENT_20S, "≤ 20 s"),
                   column("Value #F", "percentunit", PERCENT_ABANDON, "abandoned (in)")],
        links=TRUNK_LINK,
        organize={"excludeByName": {"Time": True, "Value #A": True}}, sort_by="trunk"), 24, 12)

    return dashboard("switchboard-national", "Switchboard 12333 — national overview",
                     "Transferred 12333 calls across the country: volumes and the ministry's "
                     "quality figures, by destination province (SPEC §7).", L,
                     [query_variable("province", "Province", "label_values(switchboard_trunk_info, province)",
                                     multi=True, include_all=True, all_value=".*")])


# ---------------------------------------------------------------------------------------
# One trunk

def trunk():
    L = Layout()
    t = 'trunk="$trunk"'

    def quantile(q, family, direction):
        return ('histogram_quantile(%s, sum by (le) (rate(%s_bucket{%s, direction="%s"}[$__rate_interval])))'
                % (q, family, t, direction))

    L.row("Trunk $trunk")
    L.add(table("Trunk", targets(("max by (trunk, region, province, name) (switchboard_trunk_info{%s})" % t, ""),
                                 instant=True, fmt="table"),
                organize={"excludeByName": {"Time": True, "Value": True}}), 8, 4)
    L.add(stat("Health", "max(switchboard_trunk_up{%s})" % t, steps=UP_STEPS,
               description="1: up or not yet known (routable); 0: no instance has a probe answer."), 3, 4)
    L.add(stat("Health state", "max by (state) (switchboard_trunk_state{%s}) == 1" % t, legend="{{state}}",
               text_mode="name", description="unknown, up or down (probes)"), 3, 4)
    L.add(stat("Admin state", "max by (state) (switchboard_trunk_admin_state{%s}) == 1" % t, legend="{{state}}",
               text_mode="name", description="enabled, draining or disabled (switchboardctl trunks)"), 3, 4)
    L.add(stat("Active calls (out / in)", 'sum by (direction) (switchboard_trunk_active_calls{%s})' % t,
               legend="{{direction}}", decimals=0), 4, 4)
    L.add(stat("Capacity", "max(switchboard_trunk_capacity_calls{%s})" % t, decimals=0,
               description="Configured concurrent calls, shared by every gateway (0 = unlimited)."), 3, 4)

    L.row("Quality (last hour)")
    L.add(stat("ASR", "trunk:switchboard_trunk_asr:ratio1h{%s}" % t, "percentunit", steps=PERCENT_ASR,
               description="Answered attempts / attempts sent to the trunk."), 4, 4)
    L.add(stat("NER", "trunk:switchboard_trunk_ner:ratio1h{%s}" % t, "percentunit", steps=PERCENT_ASR,
               description="(answered + busy + cancelled) / attempts: what the network delivered."), 4, 4)
    L.add(stat("Answered within 20 s", "trunk:switchboard_trunk_answered_within_20s:ratio1h{%s}" % t,
               "percentunit", steps=PERCENT_20S), 4, 4)
    L.add(stat("Answered within 30 s", "trunk:switchboard_trunk_answered_within_30s:ratio1h{%s}" % t,
               "percentunit", steps=PERCENT_20S), 4, 4)
    L.add(stat("Abandoned (calls from it)", "trunk:switchboard_trunk_abandon:ratio1h{%s}" % t,
               "percentunit", steps=PERCENT_ABANDON), 4, 4)
    L.add(stat("Attempts (1 h)", 'sum(trunk_direction:switchboard_trunk_calls:increase1h{%s, direction="out"})' % t,
               decimals=0), 4, 4)
    L.add(timeseries("Quality (1 h)", targets(
        ("trunk:switchboard_trunk_asr:ratio1h{%s}" % t, "ASR"),
        ("trunk:switchboard_trunk_ner:ratio1h{%s}" % t, "NER"),
        ("trunk:switchboard_trunk_answered_within_20s:ratio1h{%s}" % t, "answered within 20 s"),
        ("trunk:switchboard_trunk_abandon:ratio1h{%s}" % t, "abandoned (in)")),
        "percentunit", min_=0, max_=1,
        steps=thresholds((None, "transparent"), (ANSWERED_20S_TARGET, "green"))), 24, 8)

    L.row("Traffic")
    L.add(timeseries("Attempts to the trunk by result (out)", targets(
        ('sum by (result) (rate(switchboard_trunk_calls_total{%s, direction="out"}[$__rate_interval]))' % t,
         "{{result}}")), "reqps", stack=True), 12, 8)
    L.add(timeseries("Calls from the trunk by result (in)", targets(
        ('sum by (result) (rate(switchboard_trunk_calls_total{%s, direction="in"}[$__rate_interval]))' % t,
         "{{result}}")), "reqps", stack=True), 12, 8)
    L.add(timeseries("Active calls by gateway", targets(
        ('sum by (instance, direction) (switchboard_trunk_active_calls{%s})' % t, "{{instance}} {{direction}}"),
        ('max(switchboard_trunk_capacity_calls{%s}) > 0' % t, "capacity")), "short"), 12, 8)
    L.add(timeseries("Post-dial and answer delay (out)", targets(
        (quantile("0.5", "switchboard_trunk_post_dial_delay_seconds", "out"), "post-dial p50"),
        (quantile("0.95", "switchboard_trunk_post_dial_delay_seconds", "out"), "post-dial p95"),
        (quantile("0.5", "switchboard_trunk_answer_delay_seconds", "out"), "answer p50"),
        (quantile("0.95", "switchboard_trunk_answer_delay_seconds", "out"), "answer p95")), "s",
        description="From the INVITE received to the first 18x / the 2xx relayed."), 12, 8)
    L.add(timeseries("Call duration (out)", targets(
        (quantile("0.5", "switchboard_trunk_call_duration_seconds", "out"), "p50"),
        (quantile("0.95", "switchboard_trunk_call_duration_seconds", "out"), "p95"),
        ('sum(rate(switchboard_trunk_call_duration_seconds_sum{%s, direction="out"}[$__rate_interval])) / '
         'sum(rate(switchboard_trunk_call_duration_seconds_count{%s, direction="out"}[$__rate_interval]))' % (t, t),
         "mean")), "s"), 12, 8)
    L.add(timeseries("Answered within 20 s / 30 s (out, per 5 min)", targets(
        ('sum(rate(switchboard_trunk_answer_delay_seconds_bucket{%s, direction="out", le="20"}[5m])) / '
         'sum(rate(switchboard_trunk_calls_total{%s, direction="out"}[5m]))' % (t, t), "≤ 20 s"),
        ('sum(rate(switchboard_trunk_answer_delay_seconds_bucket{%s, direction="out", le="30"}[5m])) / '
         'sum(rate(switchboard_trunk_calls_total{%s, direction="out"}[5m]))' % (t, t), "≤ 30 s")),
        "percentunit", min_=0, max_=1,
        steps=thresholds((None, "transparent"), (ANSWERED_20S_TARGET, "red"))), 12, 8)

    L.row("Probes")
    L.add(timeseries("Probe round-trip by gateway", targets(
        ("switchboard_trunk_probe_rtt_seconds{%s}" % t, "{{instance}}")), "s"), 8, 8)
    L.add(timeseries("Probes by result", targets(
        ('sum by (result) (rate(switchboard_trunk_probes_total{%s}[$__rate_interval]))' % t, "{{result}}")),
        "reqps", stack=True), 8, 8)
    L.add(timeseries("Health by gateway", targets(
        ("switchboard_trunk_up{%s}" % t, "up {{instance}}"),
        ("increase(switchboard_trunk_state_changes_total{%s}[$__rate_interval])" % t, "state changes {{instance}}")),
        "short", min_=0), 8, 8)

    return dashboard("switchboard-trunk", "Switchboard 12333 — trunk",
                     "One trunk (a region's 12333 center): health, admin state, traffic in "
                     "and out, delays, and the quality figures (SPEC §7).", L,
                     [query_variable("trunk", "Trunk", "label_values(switchboard_trunk_info, trunk)")])


# ---------------------------------------------------------------------------------------
# Gateway health

def gateway():
    L = Layout()
    i = 'instance=~"$instance"'
    L.row("Instances")
    L.add(table("Gateways", targets(
        ('up{job="switchboard", %s}' % i, ""),
        ('max by (instance, version) (switchboard_build_info{%s})' % i, ""),
        ('switchboard_redis_up{%s}' % i, ""),
        ('switchboard_routing_table_version{%s}' % i, ""),
        ('switchboard_routing_table_age_seconds{%s}' % i, ""),
        ('time() - switchboard_routing_table_loaded_timestamp_seconds{%s}' % i, ""),
        ('time() - process_start_time_seconds{%s}' % i, ""),
        instant=True, fmt="table"),
        overrides=[column("Value #A", "short", UP_STEPS, "up"),
                   column("Value #B", "short"),
                   column("Value #C", "short", UP_STEPS, "redis"),
                   column("Value #D", "short", display="table version"),
                   column("Value #E", "s", display="table age"),
                   column("Value #F", "s", display="since load"),
                   column("Value #G", "s", display="uptime")],
        organize={"excludeByName": {"Time": True, "Value #B": True, "job": True, "__name__": True}},
        sort_by="instance"), 24, 6)

    L.row("SIP")
    L.add(timeseries("Requests by method", targets(
        ('sum by (method) (rate(switchboard_sip_requests_total{%s}[$__rate_interval]))' % i, "{{method}}")),
        "reqps", stack=True), 8, 8)
    L.add(timeseries("Responses sent by class", targets(
        ('sum by (class) (rate(switchboard_sip_responses_total{%s}[$__rate_interval]))' % i, "{{class}}")),
        "reqps", stack=True), 8, 8)
    L.add(timeseries("Rejections by reason", targets(
        ('sum by (reason) (rate(switchboard_rejections_total{%s}[$__rate_interval]))' % i, "{{reason}}")),
        "reqps", stack=True), 8, 8)
    L.add(timeseries("Route lookups by level", targets(
        ('sum by (level) (rate(switchboard_route_lookups_total{%s}[$__rate_interval]))' % i, "{{level}}")),
        "reqps", stack=True), 8, 8)
    L.add(timeseries("Calls in progress and active", targets(
        ('sum by (instance) (switchboard_calls_in_progress{%s})' % i, "routing {{instance}}"),
        ('sum by (instance) (switchboard_active_calls{%s})' % i, "active {{instance}}")), "short"), 8, 8)
    L.add(timeseries("Transactions in progress", targets(
        ('sum by (instance, kind) (switchboard_transactions_in_progress{%s})' % i, "{{kind}} {{instance}}")),
        "short"), 8, 8)
    L.add(timeseries("Call records by result", targets(
        ('sum by (result) (rate(switchboard_calls_total{%s}[$__rate_interval]))' % i, "{{result}}")),
        "reqps", stack=True), 8, 8)
    L.add(timeseries("Trunk target errors and unknown topics", targets(
        ('sum by (instance) (rate(switchboard_trunk_target_errors_total{%s}[$__rate_interval]))' % i,
         "target errors {{instance}}"),
        ('sum by (instance) (rate(switchboard_invalid_topics_total{%s}[$__rate_interval]))' % i,
         "invalid topics {{instance}}")), "reqps"), 8, 8)
    L.add(timeseries("Trunks by health state", targets(
        ('sum by (state) (max by (trunk, state) (switchboard_trunk_state{%s}))' % i, "{{state}}")),
        "short", stack=True), 8, 8)

    L.row("Routing table and Redis")
    L.add(timeseries("Table version", targets(
        ("switchboard_routing_table_version{%s}" % i, "{{instance}}")), "none"), 6, 7)
    L.add(timeseries("Table age", targets(
        ("switchboard_routing_table_age_seconds{%s}" % i, "{{instance}}")), "s"), 6, 7)
    L.add(timeseries("Table and config reloads", targets(
        ('sum by (instance, result) (increase(switchboard_routing_table_reloads_total{%s}[$__rate_interval]))' % i,
         "table {{result}} {{instance}}"),
        ('sum by (instance, result) (increase(switchboard_config_reloads_total{%s}[$__rate_interval]))' % i,
         "config {{result}} {{instance}}")), "short"), 6, 7)
    L.add(timeseries("Redis up", targets(
        ("switchboard_redis_up{%s}" % i, "{{instance}}")), "short", min_=0, max_=1), 6, 7)

    L.row("Call records")
    L.add(timeseries("Records written by sink", targets(
        ('sum by (sink) (rate(switchboard_records_total{%s}[$__rate_interval]))' % i, "{{sink}}")),
        "reqps", stack=True), 8, 7)
    L.add(timeseries("Record queue (waiting for Redis)", targets(
        ("switchboard_records_queue_depth{%s}" % i, "{{instance}}")), "short"), 8, 7)
    L.add(timeseries("Records spilled to file / dropped", targets(
        ('sum by (instance) (increase(switchboard_records_spilled_total{%s}[$__rate_interval]))' % i,
         "spilled {{instance}}"),
        ('sum by (instance) (increase(switchboard_records_dropped_total{%s}[$__rate_interval]))' % i,
         "dropped {{instance}}")), "short",
        description="Dropped should stay 0: a dropped record is a call missing from the ministry's statistics."),
        8, 7)

    L.row("Process")
    L.add(timeseries("CPU", targets(
        ("rate(process_cpu_seconds_total{%s}[$__rate_interval])" % i, "{{instance}}")), "percentunit",
        description="CPU seconds per second (1 = one core)."), 8, 7)
    L.add(timeseries("Resident memory", targets(
        ("process_resident_memory_bytes{%s}" % i, "{{instance}}")), "bytes"), 8, 7)
    L.add(timeseries("Open file descriptors", targets(
        ("process_open_fds{%s}" % i, "{{instance}}")), "short"), 8, 7)

    return dashboard("switchboard-gateway", "Switchboard 12333 — gateway health",
                     "The gateways themselves: SIP rates, rejections, routing table, Redis, call "
                     "records, transactions, CPU and memory (SPEC §7).", L,
                     [query_variable("instance", "Gateway", 'label_values(up{job="switchboard"}, instance)',
                                     multi=True, include_all=True, all_value=".*")])


DASHBOARDS = {
    "switchboard-national.json": national,
    "switchboard-trunk.json": trunk,
    "switchboard-gateway.json": gateway,
}


def render(build):
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


def main(argv):
    out_dir = argv[1] if len(argv) > 1 else HERE
    for name, build in DASHBOARDS.items():
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
            f.write(render(build))
        print("wrote %s" % os.path.join(out_dir, name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
