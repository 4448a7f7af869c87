"""What monitoring/ refers to: the PromQL of the rules and dashboards, the metric names and
label matchers in it, and the metric contract of docs/metrics.md.

Used by check_monitoring.py (offline checks) and test_metric_names.py (the cross-check
against a live gateway). Python 3 standard library plus PyYAML (Debian python3-yaml).
"""

import glob
import json
import os
import re

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
MONITORING = os.path.join(REPO, "monitoring")
RULES_GLOB = os.path.join(MONITORING, "rules", "*.yml")
RULE_TESTS_GLOB = os.path.join(MONITORING, "tests", "*.yml")
DASHBOARDS_GLOB = os.path.join(MONITORING, "grafana", "*.json")
METRICS_DOC = os.path.join(REPO, "docs", "metrics.md")

# Series Prometheus itself makes for every target; never exported by the gateway.
PROMETHEUS_SERIES = {"up", "scrape_duration_seconds", "scrape_samples_scraped",
                     "scrape_samples_post_metric_relabeling", "scrape_series_added"}
# Labels Prometheus adds to every scraped series.
TARGET_LABELS = {"instance", "job"}

_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and",
             "or", "unless", "offset", "inf", "nan", "atan2"}
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_SELECTOR = re.compile(r"(?<![\w:.])([a-zA-Z_:][\w:]*)\s*\{([^{}]*)\}")
_MATCHER = re.compile(r'([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')')
_TOKEN = re.compile(r"(?<![\w:.$])([a-zA-Z_:][\w:]*)(?![\w:])")
_GRAFANA_VAR = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_]\w*")
_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(.*?)\s*,\s*([a-zA-Z_]\w*)\s*\)\s*$", re.S)


def metric_names(expr):
    """Every metric name a PromQL expression selects (function and keyword names, label
    names, strings, durations and Grafana variables are left out)."""
    text = _STRING.sub('""', expr)
    text = re.sub(r"#[^\n]*", " ", text)  # PromQL comments
    text = re.sub(r"\{[^{}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\[\]]*\]", " ", text)  # ranges and subqueries
    text = _GROUPING.sub(" ", text)
    text = _GRAFANA_VAR.sub(" ", text)
    names = set()
    for m in _TOKEN.finditer(text):
        name = m.group(1)
        if name.lower() in _KEYWORDS:
            continue
        if re.match(r"\s*\(", text[m.end():]):
            continue  # a function or an aggregation
        names.add(name)
    return names


def selectors(expr):
    """[(metric name, [(label, op, value), ...])] for every `name{...}` selector."""
    out = []
    for m in _SELECTOR.finditer(expr):
        matchers = []
        for lm in _MATCHER.finditer(m.group(2)):
            value = lm.group(3)[1:-1]
            matchers.append((lm.group(1), lm.group(2), value))
        out.append((m.group(1), matchers))
    return out


def grouping_labels(expr):
    """Label names of every by/without/on/ignoring/group_left/group_right clause."""
    out = set()
    for m in _GROUPING.finditer(_STRING.sub('""', expr)):
        inner = m.group(0)[m.group(0).index("(") + 1:-1]
        out |= {x.strip() for x in inner.split(",") if x.strip()}
    return out


def split_suffix(name):
    """A classic histogram's series name -> (family, suffix); other names -> (name, '')."""
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix):
            return name[: -len(suffix)], suffix
    return name, ""


# ---------------------------------------------------------------------------------------
# Rules

def rule_files():
    return sorted(glob.glob(RULES_GLOB))


def rule_test_files():
    return sorted(glob.glob(RULE_TESTS_GLOB))


def load_rules():
    """[(file, group, rule dict)] of every rule file."""
    out = []
    for path in rule_files():
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
        for group in doc.get("groups", []):
            for rule in group.get("rules", []):
                out.append((path, group["name"], rule))
    return out


def recorded_names():
    return {r["record"] for _, _, r in load_rules() if "record" in r}


def alert_names():
    return {r["alert"] for _, _, r in load_rules() if "alert" in r}


def rule_expressions():
    """[(where, expr)] of every rule."""
    return [("%s: %s" % (os.path.relpath(p, REPO), r.get("record") or r.get("alert")), r["expr"])
            for p, _, r in load_rules()]


# ---------------------------------------------------------------------------------------
# Dashboards

def dashboard_files():
    return sorted(glob.glob(DASHBOARDS_GLOB))


def all_panels(panels):
    """Panels, including those nested in collapsed rows."""
    for p in panels:
        yield p
        for q in all_panels(p.get("panels", [])):
            yield q


def dashboard_legend_labels():
    """[(where, label)] of every {{label}} in a panel target's legend."""
    out = []
    for path in dashboard_files():
        with open(path, encoding="utf-8") as f:
            dash = json.load(f)
        rel = os.path.relpath(path, REPO)
        for panel in all_panels(dash.get("panels", [])):
            for t in panel.get("targets", []):
                for label in re.findall(r"\{\{\s*([a-zA-Z_]\w*)\s*\}\}", t.get("legendFormat") or ""):
                    out.append(("%s: panel '%s' %s" % (rel, panel.get("title"), t.get("refId")), label))
    return out


def dashboard_expressions():
    """[(where, expr)] of every panel target and every query variable of every dashboard.
    A variable's `label_values(metric, label)` yields `metric` (with the label as a
    selector, so the label is checked too)."""
    out = []
    for path in dashboard_files():
        with open(path, encoding="utf-8") as f:
            dash = json.load(f)
        rel = os.path.relpath(path, REPO)
        for panel in all_panels(dash.get("panels", [])):
            for t in panel.get("targets", []):
                if t.get("expr"):
                    out.append(("%s: panel '%s' %s" % (rel, panel.get("title"), t.get("refId")), t["expr"]))
        for var in dash.get("templating", {}).get("list", []):
            if var.get("type") != "query":
                continue
            q = var.get("query")
            q = q.get("query") if isinstance(q, dict) else q
            m = _LABEL_VALUES.match(q or "")
            if m:
                inner, label = m.group(1), m.group(2)
                out.append(("%s: variable %s" % (rel, var["name"]), inner))
                sel = inner if "{" in inner else inner + "{}"
                sel = sel[:-1] + ("," if not sel.endswith("{}") else "") + '%s!=""}' % label
                out.append(("%s: variable %s label" % (rel, var["name"]), sel))
            elif q:
                out.append(("%s: variable %s" % (rel, var["name"]), q))
    return out


# ---------------------------------------------------------------------------------------
# docs/metrics.md

def documented_metrics():
    """{name: type} from the tables of docs/metrics.md (first column `name`, second type)."""
    out = {}
    with open(METRICS_DOC, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^\|\s*`([a-zA-Z_:][\w:]*)`\s*\|\s*([^|]+?)\s*\|", line)
            if m:
                out[m.group(1)] = m.group(2).split()[0]
    return out


def documented(name, docs):
    """True when `name` is a documented metric, or a series of a documented histogram."""
    if name in docs:
        return True
    family, suffix = split_suffix(name)
    return bool(suffix) and docs.get(family) == "histogram"
