"""The web pages' templates (Jinja2, autoescaped: every user string is shown as text)."""

from __future__ import annotations

from datetime import datetime, timezone

from jinja2 import DictLoader, Environment

_BASE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{% if refresh %}<meta http-equiv="refresh" content="{{ refresh }}">{% endif %}
<title>{{ title }} · mdtplan</title>
<style>
 body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
        color: #1b1f24; background: #f6f7f9; }
 header { background: #1d4e89; color: #fff; padding: .7rem 1.5rem; display: flex;
          align-items: center; gap: 1rem; }
 header h1 { font-size: 1.15rem; margin: 0; flex: 1; }
 header form { margin: 0; }
 main { padding: 1.2rem 1.5rem; }
 table { border-collapse: collapse; width: 100%; background: #fff; }
 th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid #e1e4e8;
          vertical-align: top; }
 th { background: #eef1f5; font-weight: 600; }
 td.num { text-align: right; font-variant-numeric: tabular-nums; }
 .status { display: inline-block; padding: .05rem .5rem; border-radius: 1rem; font-size: .85em; }
 .queued { background: #e1e4e8; } .running, .cancelling { background: #fff1c2; }
 .finished { background: #d3f3da; } .failed { background: #ffd8d3; }
 .cancelled { background: #e8e0f5; }
 .muted { color: #59636e; font-size: .88em; }
 .error { color: #b3261e; }
 a { color: #1d4e89; }
 button { font: inherit; padding: .35rem .9rem; cursor: pointer; }
 input[type=password] { font: inherit; padding: .35rem; width: 32rem; max-width: 100%; }
</style>
</head>
<body>
<header><h1>mdtplan · {{ title }}</h1>
{% if who %}<span class="muted" style="color:#dfe8f3">{{ who.role }} key {{ who.key_id }}</span>
<form method="post" action="/signout"><button type="submit">Sign out</button></form>{% endif %}
</header>
<main>
{% block main %}{% endblock %}
</main>
</body>
</html>
"""

_INDEX = """{% extends "base.html" %}
{% block main %}
<p class="muted">{{ jobs|length }} scenario{{ "" if jobs|length == 1 else "s" }} shown, newest
first{% if refresh %}; this page refreshes every {{ refresh }} s while solves run{% endif %}.
Submit scenarios with <code>POST /v1/scenarios</code> (see <a href="/docs">the API docs</a>).</p>
<table>
<thead><tr><th>Scenario</th><th>Status</th><th>Hubs</th><th>Annual cost</th>
<th>Demand met</th><th>Travel (mean / max)</th><th>Submitted</th><th>Outputs</th></tr></thead>
<tbody>
{% for job, s in rows %}
{# s: the job's summary, typed (mdtplan.summary.Summary; every figure none while it has none) #}
<tr>
<td><strong>{{ job.name }}</strong><br><span class="muted">{{ job.id }}</span></td>
<td><span class="status {{ job.status }}">{{ job.status }}</span>
{% if s.report.status %}<br><span class="muted">{{ s.report.status }}</span>{% endif %}
{% if job.status in ("queued", "running", "cancelling") and job.progress %}
<br><span class="muted">{{ job.progress.message or job.progress.stage }}</span>{% endif %}
{% if job.status == "failed" %}<br><span class="error">{{ job.message }}</span>{% endif %}</td>
<td class="num">{{ s.hubs.count if s.hubs.count is not none else "" }}</td>
<td class="num">{{ s.costs.total_gbp|gbp }}</td>
<td class="num">{{ s.demand.met_share|pct }}</td>
<td class="num">{% if s.travel.mean is number and s.travel.max is number %}{{ "%.1f"|format(s.travel.mean) }} /
{{ "%.1f"|format(s.travel.max) }} {{ s.travel.unit or "" }}{% endif %}</td>
<td>{{ job.created_at|when }}</td>
<td>{% if job.links.map %}<a href="{{ job.links.map }}">map</a> {% endif %}
{% if job.links.result %}<a href="{{ job.links.result }}">result</a> {% endif %}
{% if job.links.export %}<a href="{{ job.links.export }}">export</a>{% endif %}
<a href="{{ job.links.self }}" class="muted">status</a></td>
</tr>
{% else %}
<tr><td colspan="8" class="muted">No scenarios yet.</td></tr>
{% endfor %}
</tbody>
</table>
{% endblock %}
"""

_SIGNIN = """{% extends "base.html" %}
{% block main %}
<form method="post" action="/signin">
<p>Sign in with your API key (made by an administrator with
<code>mdtplan keys create --role viewer</code>).</p>
{% if error %}<p class="error">{{ error }}</p>{% endif %}
<p><label>API key<br><input type="password" name="key" autocomplete="off" required
 autofocus></label></p>
<input type="hidden" name="next" value="{{ next_path }}">
<p><button type="submit">Sign in</button></p>
</form>
{% endblock %}
"""

PAGE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
"""Pages carry no script at all."""


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _gbp(value) -> str:
    return f"£{value:,.0f}" if _number(value) else ""


def _pct(value) -> str:
    return f"{value:.1%}" if _number(value) else ""


def _when(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        value = datetime.fromtimestamp(value, tz=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


env = Environment(loader=DictLoader({"base.html": _BASE, "index.html": _INDEX,
                                     "signin.html": _SIGNIN}), autoescape=True)
env.filters.update(gbp=_gbp, pct=_pct, when=_when)


def render(name: str, **context) -> str:
    """Render a page; every value is HTML-escaped unless marked safe (none is)."""
    return env.get_template(name).render(**context)
