#!/usr/bin/env python3
"""Writes the suite's Grafana dashboards (deploy/grafana/dashboards/*.json).

The dashboards are generated so that every panel follows one layout and one
datasource, and so that tests/ops/obs_live_query_test.py can read every
query back from the JSON. Edit this file, run it, commit both:

    python3 deploy/grafana/generate.py

Queries use the recording rules of deploy/prometheus/rules/ where one exists
(the SLA ratios) and raw metrics otherwise. Template variables: $region and
$priority (multi-value, "All" = regex .*).
"""
import json
import os

DS = {"type": "prometheus", "uid": "aftersales-prometheus"}
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dashboards")
SERVICES = ["intake", "dispatch", "parts", "complaint", "satisfaction"]


def target(expr, legend="", ref="A", instant=False):
    t = {"datasource": DS, "expr": expr, "legendFormat": legend, "refId": ref}
    if instant:
        t["instant"] = True
        t["format"] = "table"
    return t


class Board:
    def __init__(self, uid, title, description, variables=()):
        self.uid, self.title, self.description = uid, title, description
        self.panels, self.x, self.y, self.row_h = [], 0, 0, 0
        self.variables = variables

    def panel(self, kind, title, targets, w=12, h=8, unit=None, description="",
              minv=None, maxv=None, thresholds=None, options=None):
        if self.x + w > 24:
            self.x, self.y = 0, self.y + self.row_h
            self.row_h = 0
        refs = "ABCDEFGH"
        for i, t in enumerate(targets):
            t["refId"] = refs[i]
        defaults = {}
        if unit:
            defaults["unit"] = unit
        if minv is not None:
            defaults["min"] = minv
        if maxv is not None:
            defaults["max"] = maxv
        if thresholds:
            defaults["thresholds"] = {"mode": "absolute", "steps": [
                {"color": c, "value": v} for v, c in thresholds]}
        p = {
            "id": len(self.panels) + 1,
            "type": kind,
            "title": title,
            "description": description,
            "datasource": DS,
            "gridPos": {"x": self.x, "y": self.y, "w": w, "h": h},
            "targets": targets,
            "fieldConfig": {"defaults": defaults, "overrides": []},
            "options": options or {},
        }
        self.panels.append(p)
        self.x += w
        self.row_h = max(self.row_h, h)

    def row(self, title):
        if self.x:
            self.x, self.y = 0, self.y + self.row_h
        self.panels.append({"id": len(self.panels) + 1, "type": "row", "title": title,
                            "collapsed": False, "panels": [],
                            "gridPos": {"x": 0, "y": self.y, "w": 24, "h": 1}})
        self.y += 1
        self.row_h = 0

    def json(self):
        templating = []
        for name, metric in self.variables:
            templating.append({
                "name": name, "label": name, "type": "query", "datasource": DS,
                "query": {"query": f"label_values({metric}, {name})", "refId": name},
                "definition": f"label_values({metric}, {name})",
                "multi": True, "includeAll": True, "allValue": ".*",
                "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
                "refresh": 2, "sort": 1,
            })
        return {
            "uid": self.uid, "title": self.title, "description": self.description,
            "tags": ["aftersales"], "timezone": "browser", "editable": True,
            "schemaVersion": 37, "version": 1, "refresh": "30s",
            "time": {"from": "now-6h", "to": "now"},
            "templating": {"list": templating},
            "annotations": {"list": [{
                "name": "Alerts", "datasource": DS, "enable": True, "iconColor": "red",
                "expr": 'ALERTS{alertstate="firing"}', "titleFormat": "{{alertname}}",
                "builtIn": 0}]},
            "links": [{"title": "After-sales dashboards", "type": "dashboards",
                       "tags": ["aftersales"], "asDropdown": True}],
            "panels": self.panels,
        }


RATIO = dict(unit="percentunit", minv=0, maxv=1)
SLO_COLORS = [(None, "red"), (0.95, "orange"), (0.98, "green")]
REGION = 'region=~"$region"'
REGION_PRIO = 'region=~"$region",priority=~"$priority"'


def grpc_panels(b, job):
    b.row("gRPC and event streams")
    b.panel("timeseries", "RPCs per second by method", [target(
        f'sum by (grpc_method) (rate(grpc_server_handled_total{{job="{job}"}}[5m]))',
        "{{grpc_method}}")], w=8, unit="reqps")
    b.panel("timeseries", "Error ratio (status not OK)", [target(
        f'(sum(rate(grpc_server_handled_total{{job="{job}",grpc_code!="OK"}}[5m])) or vector(0))'
        f' / sum(rate(grpc_server_handled_total{{job="{job}"}}[5m]))', "errors")],
        w=8, **RATIO)
    b.panel("timeseries", "p90 latency by method", [target(
        'histogram_quantile(0.9, sum by (le, grpc_method) '
        f'(rate(grpc_server_handling_seconds_bucket{{job="{job}"}}[5m])))',
        "{{grpc_method}}")], w=8, unit="s")
    b.panel("timeseries", "Event consumers: lag behind the producer", [target(
        f'aftersales_event_consumer_lag_events{{job="{job}"}}', "{{consumer}}")],
        w=8, unit="short", description="Producer head seq minus the applied cursor (SPEC 7.1 event-stream lag)")
    b.panel("stat", "Event consumers connected", [target(
        f'aftersales_event_consumer_connected{{job="{job}"}}', "{{consumer}}")], w=8,
        thresholds=[(None, "red"), (1, "green")])
    b.panel("stat", "Up", [target(f'up{{job="{job}"}}', "{{instance}}")], w=8,
            thresholds=[(None, "red"), (1, "green")])


def sla_overview():
    b = Board("aftersales-sla-overview", "After-sales: SLA overview",
              "The five-step loop (intake, dispatch, on site, repair, follow-up) with the "
              "compliance of each step's clock, breaches by cause, regions ranked.",
              variables=[("region", "aftersales_sla_clock_duration_seconds_count"),
                         ("priority", "aftersales_sla_clock_duration_seconds_count")])
    b.row("The five-step loop")
    met = f'clock_region_priority:aftersales_sla_clock_met:rate1h{{{REGION_PRIO}}}'
    judged = f'clock_region_priority:aftersales_sla_clock_judged:rate1h{{{REGION_PRIO}}}'
    b.panel("bargauge", "Compliance per step, last hour (clocks met / judged)", [target(
        f'sum by (clock) ({met}) / sum by (clock) ({judged})', "{{clock}}")],
        w=12, h=9, thresholds=SLO_COLORS,
        description="FIRST_CONTACT = intake, DISPATCH = dispatch, ARRIVAL = on site, "
                    "REPAIR_PLAN and RESOLUTION = repair, FOLLOW_UP = follow-up. Objective 98%.",
        options={"orientation": "horizontal", "displayMode": "gradient"}, **RATIO)
    b.panel("bargauge", "Compliance per step, last day", [target(
        f'sum by (clock) (clock_region:aftersales_sla_compliance:ratio_rate1d{{{REGION}}}'
        f' * clock_region:aftersales_sla_clock_judged:rate1d{{{REGION}}})'
        f' / sum by (clock) (clock_region:aftersales_sla_clock_judged:rate1d{{{REGION}}})',
        "{{clock}}")], w=12, h=9, thresholds=SLO_COLORS,
        options={"orientation": "horizontal", "displayMode": "gradient"}, **RATIO)
    b.panel("timeseries", "Compliance per step over time (1h window)", [target(
        'clock:aftersales_sla_compliance:ratio_rate1h', "{{clock}}")], w=12, **RATIO)
    b.panel("timeseries", "Error-budget burn rate (1h; 1 = on budget, page at 14.4)", [target(
        'clock:aftersales_sla_error:ratio_rate1h / 0.02', "{{clock}}")], w=12, unit="short",
        thresholds=[(None, "green"), (1, "orange"), (14.4, "red")])
    b.row("Breaches and risk")
    b.panel("piechart", "Breaches by cause, last day", [target(
        f'sum by (cause) (clock_cause_region:aftersales_sla_breaches:increase1d{{{REGION}}})',
        "{{cause}}")], w=8, unit="short",
        description="Cause attributed at the breach (SPEC 2.4): DISPATCH, TRAVEL, PARTS, SKILL, CAPACITY, CUSTOMER")
    b.panel("timeseries", "Breaches by clock and cause (per hour)", [target(
        f'sum by (clock, cause) (increase(aftersales_sla_breaches_total{{{REGION_PRIO}}}[1h]))',
        "{{clock}} / {{cause}}")], w=8, unit="short")
    b.panel("timeseries", "Clocks at risk (75% of budget used, per hour)", [target(
        f'sum by (clock) (increase(aftersales_sla_at_risk_total{{{REGION_PRIO}}}[1h]))',
        "{{clock}}")], w=8, unit="short")
    b.row("Regions")
    b.panel("table", "Regions ranked by arrival compliance (last day, worst first)", [target(
        f'sort(clock_region:aftersales_sla_compliance:ratio_rate1d{{clock="ARRIVAL",{REGION}}})',
        "{{region}}", instant=True)], w=8, h=9, **RATIO)
    b.panel("table", "Regional arrival timeouts (last hour) and likely cause", [target(
        f'region:aftersales_sla_arrival_timeout:ratio_rate1h{{{REGION}}}', "{{region}}",
        instant=True), target(
        f'region_likely_cause:aftersales_sla_arrival_breaches:increase1h{{{REGION}}}',
        "{{region}} {{likely_cause}}", instant=True)], w=8, h=9,
        description="Alert AftersalesRegionalArrivalTimeoutsHigh above 10% for 15 min")
    b.panel("bargauge", "CSAT by region (rolling 7 days)", [target(
        f'aftersales_csat_percent{{window="rolling_7d",{REGION}}}', "{{region}}")], w=8, h=9,
        unit="percent", minv=0, maxv=100)
    b.row("Other SLA ratios")
    b.panel("stat", "Complaint acknowledge / resolve compliance (1h)", [target(
        'clock:aftersales_complaint_compliance:ratio_rate1h', "{{clock}}")], w=6,
        thresholds=SLO_COLORS, **RATIO)
    b.panel("stat", "Parts fill rate (1h; target 98%)", [target(
        'job:aftersales_parts_fill:ratio_rate1h', "fill rate")], w=6,
        thresholds=SLO_COLORS, **RATIO)
    b.panel("stat", "First-time-fix (1d; target 90%)", [target(
        'job:aftersales_first_time_fix:ratio_rate1d', "first-time-fix")], w=6,
        thresholds=[(None, "red"), (0.9, "green")], **RATIO)
    b.panel("stat", "Dispatch accuracy: accepted on first offer (1h; target 95%)", [target(
        'job:aftersales_dispatch_first_offer:ratio_rate1h', "first offer")], w=6,
        thresholds=[(None, "red"), (0.95, "green")], **RATIO)
    b.panel("timeseries", "Open orders by state", [target(
        'sum by (state) (aftersales_orders)', "{{state}}")], w=12, unit="short")
    b.panel("stat", "Services up", [target(
        'up{job=~"intake|dispatch|parts|complaint|satisfaction"}', "{{job}}")], w=12,
        thresholds=[(None, "red"), (1, "green")])
    return b


def intake():
    b = Board("aftersales-intake", "After-sales: intake",
              "Work orders, SLA clocks, breaches, compensation, repairs.",
              variables=[("region", "aftersales_sla_clock_duration_seconds_count"),
                         ("priority", "aftersales_sla_clock_duration_seconds_count")])
    b.row("Orders")
    b.panel("timeseries", "Orders created per hour by channel", [target(
        'sum by (channel) (increase(aftersales_orders_created_total{job="intake"}[1h]))',
        "{{channel}}")], w=8, unit="short")
    b.panel("timeseries", "Orders by state", [target(
        'sum by (state) (aftersales_orders{job="intake"})', "{{state}}")], w=8, unit="short")
    b.panel("timeseries", "State transitions per hour", [target(
        'sum by (to) (increase(aftersales_order_transitions_total{job="intake"}[1h]))',
        "{{to}}")], w=8, unit="short")
    b.row("SLA clocks")
    b.panel("timeseries", "p90 clock duration by clock (1h)", [target(
        'histogram_quantile(0.9, sum by (le, clock) (rate(aftersales_sla_clock_duration_seconds_bucket'
        f'{{job="intake",{REGION_PRIO}}}[1h])))', "{{clock}}")], w=12, unit="s",
        description="Mean and p90 time per step of the five-step loop (SPEC 2.5)")
    b.panel("timeseries", "Mean clock duration by clock (1h)", [target(
        f'sum by (clock) (rate(aftersales_sla_clock_duration_seconds_sum{{job="intake",{REGION_PRIO}}}[1h]))'
        f' / sum by (clock) (rate(aftersales_sla_clock_duration_seconds_count{{job="intake",{REGION_PRIO}}}[1h]))',
        "{{clock}}")], w=12, unit="s")
    b.panel("timeseries", "Compliance by clock, region and priority (1h)", [target(
        f'clock_region_priority:aftersales_sla_compliance:ratio_rate1h{{{REGION_PRIO}}}',
        "{{clock}} {{region}} {{priority}}")], w=12, **RATIO)
    b.panel("timeseries", "Breaches per hour by clock and cause", [target(
        f'sum by (clock, cause) (increase(aftersales_sla_breaches_total{{job="intake",{REGION_PRIO}}}[1h]))',
        "{{clock}} / {{cause}}")], w=12, unit="short")
    b.row("Repairs and engineers")
    b.panel("timeseries", "First-time-fix by fault kind (1d)", [target(
        'fault_kind:aftersales_first_time_fix:ratio_rate1d', "{{fault_kind}}")], w=8, **RATIO)
    b.panel("timeseries", "On-site service duration p50 / p90 (1h)", [target(
        'histogram_quantile(0.5, sum by (le) (rate(aftersales_onsite_service_duration_seconds_bucket'
        f'{{job="intake",{REGION}}}[1h])))', "p50"), target(
        'histogram_quantile(0.9, sum by (le) (rate(aftersales_onsite_service_duration_seconds_bucket'
        f'{{job="intake",{REGION}}}[1h])))', "p90")], w=8, unit="s")
    b.panel("timeseries", "Engineers >= 1.5x their 30-day duration baseline", [target(
        f'sum by (region) (aftersales_engineers_above_duration_baseline{{job="intake",{REGION}}})',
        "{{region}}")], w=8, unit="short", description="SPEC 7.2 level 2")
    b.panel("timeseries", "Compensation entries per day by reason", [target(
        'sum by (reason) (increase(aftersales_compensation_entries_total{job="intake"}[1d]))',
        "{{reason}}")], w=12, unit="short")
    b.panel("timeseries", "Data-security incidents (30 days)", [target(
        'sum by (kind) (increase(aftersales_security_incidents_total{job="intake"}[30d]))',
        "{{kind}}")], w=12, unit="short", description="Alert above 3 per month (SPEC 7.2)")
    grpc_panels(b, "intake")
    return b


def dispatch():
    b = Board("aftersales-dispatch", "After-sales: dispatch",
              "Time to offer and acceptance, offers, the unassigned queue, engineer load.")
    b.row("Offers")
    b.panel("timeseries", "Order to first offer (p50 / p90, 1h)", [target(
        'histogram_quantile(0.5, sum by (le) (rate(aftersales_dispatch_time_to_offer_seconds_bucket[1h])))',
        "p50"), target(
        'histogram_quantile(0.9, sum by (le) (rate(aftersales_dispatch_time_to_offer_seconds_bucket[1h])))',
        "p90")], w=8, unit="s", description="SPEC 3: auto-dispatch SLA 15 min, target seconds")
    b.panel("timeseries", "Order to acceptance (p50 / p90, 1h)", [target(
        'histogram_quantile(0.5, sum by (le) (rate(aftersales_dispatch_time_to_acceptance_seconds_bucket[1h])))',
        "p50"), target(
        'histogram_quantile(0.9, sum by (le) (rate(aftersales_dispatch_time_to_acceptance_seconds_bucket[1h])))',
        "p90")], w=8, unit="s")
    b.panel("timeseries", "Offers per accepted order (mean, 1h)", [target(
        'sum(rate(aftersales_dispatch_offers_per_order_sum[1h])) / sum(rate(aftersales_dispatch_offers_per_order_count[1h]))',
        "offers")], w=8, unit="short")
    b.panel("timeseries", "Offers per hour by outcome", [target(
        'sum by (outcome) (increase(aftersales_dispatch_offers_total[1h]))', "{{outcome}}")],
        w=12, unit="short")
    b.panel("timeseries", "Dispatch accuracy: accepted on the first offer (1h)", [target(
        'job:aftersales_dispatch_first_offer:ratio_rate1h', "first offer")], w=12,
        thresholds=[(None, "red"), (0.95, "green")], **RATIO)
    b.row("Queue and engineers")
    b.panel("timeseries", "Unassigned orders", [target(
        'aftersales_dispatch_unassigned_orders', "queued")], w=8, unit="short")
    b.panel("timeseries", "Oldest unassigned order age", [target(
        'aftersales_dispatch_unassigned_oldest_age_seconds', "oldest")], w=8, unit="s")
    b.panel("timeseries", "Engineer utilisation (jobs held / capacity, on duty)", [target(
        'aftersales_dispatch_engineer_utilisation_ratio', "utilisation")], w=8, **RATIO)
    b.panel("timeseries", "Orders unassigned at their dispatch deadline (per hour)", [target(
        'increase(aftersales_dispatch_past_deadline_total[1h])', "past deadline")], w=12,
        unit="short")
    b.panel("timeseries", "Dispatch clock compliance (intake's clock, 1h)", [target(
        'clock:aftersales_sla_compliance:ratio_rate1h{clock="DISPATCH"}', "DISPATCH")], w=12,
        thresholds=SLO_COLORS, **RATIO)
    grpc_panels(b, "dispatch")
    return b


def parts():
    b = Board("aftersales-parts", "After-sales: parts",
              "Fill rate, reservations, backorders, low stock, stock value, invariant.")
    b.row("Fill rate and reservations")
    b.panel("stat", "Fill rate since start (target 98%)", [target(
        'aftersales_parts_fill_rate_ratio', "fill rate")], w=6, thresholds=SLO_COLORS, **RATIO)
    b.panel("timeseries", "Fill rate (1h window)", [target(
        'job:aftersales_parts_fill:ratio_rate1h', "fill rate")], w=6, **RATIO)
    b.panel("timeseries", "Reservations per hour by outcome and location kind", [target(
        'sum by (outcome, location_kind) (increase(aftersales_parts_reservations_total[1h]))',
        "{{outcome}} {{location_kind}}")], w=12, unit="short")
    b.panel("timeseries", "Reservations ended per hour", [target(
        'sum by (outcome) (increase(aftersales_parts_reservations_ended_total[1h]))',
        "{{outcome}}")], w=12, unit="short")
    b.panel("timeseries", "Backorder age p90 (1d) by outcome", [target(
        'histogram_quantile(0.9, sum by (le, outcome) (rate(aftersales_parts_backorder_age_seconds_bucket[1d])))',
        "{{outcome}}")], w=12, unit="s", description="Industry average stock-out 72 h (SPEC 4)")
    b.row("Stock")
    b.panel("timeseries", "Backorders waiting", [target(
        'aftersales_parts_backorders_waiting', "waiting")], w=8, unit="short")
    b.panel("timeseries", "Levels below their reorder point", [target(
        'aftersales_parts_low_stock_levels', "low")], w=8, unit="short")
    b.panel("timeseries", "Stock value (minor units)", [target(
        'sum by (currency) (aftersales_parts_stock_value_minor)', "{{currency}}")], w=8,
        unit="short")
    b.panel("timeseries", "Units moved per hour", [target(
        'sum by (movement) (increase(aftersales_parts_stock_units_total[1h]))', "{{movement}}")],
        w=8, unit="short")
    b.panel("stat", "Stock changes refused (1d)", [target(
        'increase(aftersales_parts_stock_changes_refused_total[1d])', "refused")], w=8)
    b.panel("stat", "Invariant violations (must stay 0)", [target(
        'aftersales_parts_invariant_violations_total', "violations")], w=8,
        thresholds=[(None, "green"), (1, "red")])
    grpc_panels(b, "parts")
    return b


def complaint():
    b = Board("aftersales-complaint", "After-sales: complaint",
              "Complaints by grade and category, acknowledge/resolve clocks, escalations.")
    b.row("Complaints")
    b.panel("timeseries", "Complaints filed per day by grade", [target(
        'sum by (grade) (increase(aftersales_complaints_filed_total[1d]))', "{{grade}}")],
        w=8, unit="short")
    b.panel("piechart", "Complaints filed by category (1d)", [target(
        'sum by (category) (increase(aftersales_complaints_filed_total[1d]))', "{{category}}")],
        w=8, unit="short")
    b.panel("timeseries", "Complaints by state", [target(
        'sum by (state) (aftersales_complaints)', "{{state}}")], w=8, unit="short")
    b.panel("timeseries", "Complaints per 1,000 orders (1d)", [target(
        '1000 * sum(increase(aftersales_complaints_filed_total[1d])) / sum(increase(aftersales_orders_created_total[1d]))',
        "per 1000 orders")], w=12, unit="short", description="SPEC 5 KPI")
    b.panel("timeseries", "Grading rules fired per day", [target(
        'sum by (rule) (increase(aftersales_complaint_rules_fired_total[1d]))', "{{rule}}")],
        w=12, unit="short")
    b.row("Clocks")
    b.panel("timeseries", "Acknowledge / resolve compliance by grade (1d)", [target(
        'clock_grade:aftersales_complaint_compliance:ratio_rate1d', "{{clock}} {{grade}}")],
        w=12, **RATIO)
    b.panel("timeseries", "Resolution time p90 by grade (1d; target <= 3 days)", [target(
        'histogram_quantile(0.9, sum by (le, grade) (rate(aftersales_complaint_resolution_duration_seconds_bucket[1d])))',
        "{{grade}}")], w=12, unit="s")
    b.panel("timeseries", "Acknowledge time p90 by grade (1d)", [target(
        'histogram_quantile(0.9, sum by (le, grade) (rate(aftersales_complaint_acknowledge_duration_seconds_bucket[1d])))',
        "{{grade}}")], w=12, unit="s")
    b.panel("timeseries", "Escalations per day by reason", [target(
        'sum by (reason) (increase(aftersales_complaint_escalations_total[1d]))', "{{reason}}")],
        w=12, unit="short")
    b.panel("timeseries", "Reopen rate (reopened / resolved, 1d)", [target(
        '(sum(increase(aftersales_complaints_reopened_total[1d])) or vector(0)) / sum(increase(aftersales_complaints_resolved_total[1d]))',
        "reopen rate")], w=12, **RATIO)
    b.panel("stat", "Same-model clusters (3 days; SPEC 7.2 level 1)", [target(
        'increase(aftersales_appliance_model_clusters_total[3d])', "clusters")], w=12,
        thresholds=[(None, "green"), (1, "red")])
    grpc_panels(b, "complaint")
    return b


def satisfaction():
    b = Board("aftersales-satisfaction", "After-sales: satisfaction",
              "CSAT, NPS, satisfaction index, follow-up coverage and surveys per region.",
              variables=[("region", "aftersales_csat_percent")])
    b.row("Scores (rolling 7 days)")
    sel = f'window="rolling_7d",{REGION}'
    b.panel("timeseries", "CSAT % by region (target index >= 90)", [target(
        f'aftersales_csat_percent{{{sel}}}', "{{region}}")], w=8, unit="percent")
    b.panel("timeseries", "NPS by region", [target(
        f'aftersales_nps_score{{{sel}}}', "{{region}}")], w=8, unit="short")
    b.panel("timeseries", "Satisfaction index by region", [target(
        f'aftersales_satisfaction_index{{{sel}}}', "{{region}}")], w=8, unit="short")
    b.panel("timeseries", "Follow-up coverage by region", [target(
        f'aftersales_follow_up_coverage_ratio{{{sel}}}', "{{region}}")], w=8, **RATIO)
    b.panel("timeseries", "Survey response rate by region", [target(
        f'aftersales_survey_response_ratio{{{sel}}}', "{{region}}")], w=8, **RATIO)
    b.panel("timeseries", "Follow-up clock compliance (intake's clock, 1d)", [target(
        'clock:aftersales_sla_compliance:ratio_rate1d{clock="FOLLOW_UP"}', "FOLLOW_UP")], w=8,
        thresholds=SLO_COLORS, **RATIO)
    b.row("Surveys and recovery")
    b.panel("timeseries", "Surveys per day by outcome", [target(
        'sum by (outcome) (increase(aftersales_surveys_total[1d]))', "{{outcome}}")], w=8,
        unit="short")
    b.panel("timeseries", "Answers per day by NPS class", [target(
        'sum by (nps_class) (increase(aftersales_survey_answers_total[1d]))', "{{nps_class}}")],
        w=8, unit="short")
    b.panel("timeseries", "Recovery: deep follow-ups, not solved, five-star rights (1d)", [
        target('increase(aftersales_deep_follow_ups_opened_total[1d])', "deep follow-ups"),
        target('increase(aftersales_survey_problem_not_solved_total[1d])', "not solved"),
        target('increase(aftersales_five_star_rights_granted_total[1d])', "five-star rights")],
        w=8, unit="short")
    b.panel("timeseries", "Engineer ratings published (1d)", [target(
        'increase(aftersales_engineer_rating_changes_total[1d])', "ratings")], w=12,
        unit="short")
    b.panel("timeseries", "Answered surveys per region (rolling 7 days)", [target(
        f'aftersales_survey_responses{{{sel}}}', "{{region}}")], w=12, unit="short")
    grpc_panels(b, "satisfaction")
    return b


def partners():
    b = Board("aftersales-partners", "After-sales: partner networks",
              "Offers and acceptance per partner network, with the dispatch and arrival "
              "clocks they drive.", variables=[("partner", "aftersales_dispatch_partner_offers_total")])
    sel = 'partner=~"$partner"'
    b.row("Offers per partner network")
    b.panel("timeseries", "Offers made per hour by partner", [target(
        f'sum by (partner) (increase(aftersales_dispatch_partner_offers_total{{outcome="made",{sel}}}[1h]))',
        "{{partner}}")], w=12, unit="short")
    b.panel("timeseries", "Offer outcomes per hour by partner", [target(
        f'sum by (partner, outcome) (increase(aftersales_dispatch_partner_offers_total{{outcome!="made",{sel}}}[1h]))',
        "{{partner}} {{outcome}}")], w=12, unit="short")
    b.panel("bargauge", "Acceptance rate by partner (accepted / decided, 1h)", [target(
        f'(sum by (partner) (rate(aftersales_dispatch_partner_offers_total{{outcome="accepted",{sel}}}[1h]))'
        f' or sum by (partner) (rate(aftersales_dispatch_partner_offers_total{{{sel}}}[1h])) * 0)'
        f' / sum by (partner) (rate(aftersales_dispatch_partner_offers_total{{outcome!="made",{sel}}}[1h]))',
        "{{partner}}")], w=12, thresholds=[(None, "red"), (0.8, "orange"), (0.95, "green")],
        options={"orientation": "horizontal", "displayMode": "gradient"}, **RATIO)
    b.panel("table", "Partners ranked by rejected + timed-out offers (1d)", [target(
        f'sort_desc(sum by (partner) (increase(aftersales_dispatch_partner_offers_total{{outcome=~"rejected|timed_out|made",{sel}}}[1d])))',
        "{{partner}}", instant=True)], w=12, unit="short",
        description="Offers made and the share the network let lapse or refused")
    b.row("Network-wide")
    b.panel("timeseries", "Dispatch and arrival compliance (1h)", [target(
        'clock:aftersales_sla_compliance:ratio_rate1h{clock=~"DISPATCH|ARRIVAL"}', "{{clock}}")],
        w=8, thresholds=SLO_COLORS, **RATIO)
    b.panel("timeseries", "Engineer utilisation", [target(
        'aftersales_dispatch_engineer_utilisation_ratio', "utilisation")], w=8, **RATIO)
    b.panel("timeseries", "Arrival breaches per hour by cause", [target(
        'sum by (cause) (increase(aftersales_sla_breaches_total{clock="ARRIVAL"}[1h]))',
        "{{cause}}")], w=8, unit="short")
    b.panel("timeseries", "Engineer ratings published (1d)", [target(
        'increase(aftersales_engineer_rating_changes_total[1d])', "ratings")], w=12,
        unit="short")
    b.panel("timeseries", "Engineers >= 1.5x their duration baseline", [target(
        'sum by (region) (aftersales_engineers_above_duration_baseline)', "{{region}}")], w=12,
        unit="short")
    return b


def main():
    os.makedirs(OUT, exist_ok=True)
    for make in (sla_overview, intake, dispatch, parts, complaint, satisfaction, partners):
        board = make()
        path = os.path.join(OUT, board.uid + ".json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(board.json(), f, indent=2, ensure_ascii=False)
            f.write("\n")
        print(path)


if __name__ == "__main__":
    main()
