"""Panther's Python path for one rule, timed, for `rulec-bench`.

Each NDJSON line goes through `json.loads`, becomes a `PantherEvent` with
its log type's data model, and goes to panther_core's `Rule.run` in batch
mode (the title, dedup string and alert context computed for the events
that alert), as Panther's engine runs a rule on the events of its log
types. The rule, its helpers and the data models are panther-analysis's
own files, unchanged, under `upstream/`.

Usage: panther_path.py UPSTREAM_DIR RULE_FILE_STEM NDJSON_FILE

Prints one line of JSON: the events of the rule's log types, the bytes read
(every line, line ends included), the seconds the loop took (imports and
set-up excluded), each event that alerts (its line number, from 1, its
title and its dedup string) and the line numbers of the events the rule
raised on.
"""

import json
import os
import sys
import time

import yaml


def load_data_models(models_dir, DataModel):
    """Every data model under `models_dir`, by log type."""
    models = {}
    for name in sorted(os.listdir(models_dir)):
        if not name.endswith(".yml"):
            continue
        with open(os.path.join(models_dir, name), encoding="utf-8") as spec_file:
            spec = yaml.safe_load(spec_file)
        config = {
            "id": spec["DataModelID"],
            "versionId": "0",
            "mappings": [
                {key.lower(): value for key, value in mapping.items()}
                for mapping in spec["Mappings"]
            ],
        }
        if spec.get("Filename"):
            with open(os.path.join(models_dir, spec["Filename"]), encoding="utf-8") as body:
                config["body"] = body.read()
        model = DataModel(config)
        for log_type in spec["LogTypes"]:
            models[log_type] = model
    return models


def load_rule(rules_dir, stem, Rule):
    """The rule and its log types."""
    with open(os.path.join(rules_dir, stem + ".yml"), encoding="utf-8") as spec_file:
        spec = yaml.safe_load(spec_file)
    with open(os.path.join(rules_dir, stem + ".py"), encoding="utf-8") as body:
        rule = Rule(
            {
                "id": spec["RuleID"],
                "versionId": "0",
                "analysisType": "RULE",
                "body": body.read(),
                "dedupPeriodMinutes": spec.get("DedupPeriodMinutes", 60),
                "threshold": spec.get("Threshold", 1),
            }
        )
    return rule, set(spec["LogTypes"])


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    upstream, stem, corpus = sys.argv[1:4]
    sys.path.insert(0, os.path.join(upstream, "global_helpers"))
    from panther_core.data_model import DataModel
    from panther_core.enriched_event import PantherEvent
    from panther_core.rule import Rule

    models = load_data_models(os.path.join(upstream, "data_models"), DataModel)
    rule, log_types = load_rule(os.path.join(upstream, "rules"), stem, Rule)

    events = size = 0
    matches = []
    raised = []
    started = time.perf_counter()
    with open(corpus, "rb") as lines:
        for number, line in enumerate(lines, start=1):
            size += len(line)
            event = json.loads(line)
            log_type = event.get("p_log_type")
            if log_type not in log_types:
                continue
            result = rule.run(PantherEvent(event, models.get(log_type)), {}, {}, batch_mode=True)
            events += 1
            if result.trigger_alert:
                matches.append([number, result.title_output, result.dedup_output])
            if result.errored:
                raised.append(number)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "events": events,
                "bytes": size,
                "seconds": seconds,
                "matches": matches,
                "raised": raised,
            }
        )
    )


if __name__ == "__main__":
    main()
