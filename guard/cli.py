"""The ``guardwire`` command line: ``check`` text against a policy, ``test`` policies
against their case files, ``serve`` the proxy, show and reset ``budgets``.

Exit codes: 0 allowed (also warned or redacted), 1 blocked, 2 usage, policy or
configuration error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from guard._version import __version__
from guard.errors import ConfigError, GuardError, PolicyError

EXIT_ALLOWED, EXIT_BLOCKED, EXIT_ERROR = 0, 1, 2

_SERVE_EPILOG = """\
configuration:
  A YAML file (--config FILE or GUARDWIRE_CONFIG) holds every setting (upstreams,
  keys, policies, passthrough, limits); environment variables win over the file and
  flags win over both. Main variables:
    GUARDWIRE_UPSTREAM         upstream base URL (one upstream)
    GUARDWIRE_UPSTREAM_KEY     one upstream key for every route; else OPENAI_API_KEY
                               for OpenAI routes and ANTHROPIC_API_KEY for Anthropic
                               routes (GUARDWIRE_UPSTREAM_KEY_ENV names another variable)
    GUARDWIRE_POLICY           policy file or shipped pack name
    GUARDWIRE_PASSTHROUGH      routes forwarded unchecked, comma-separated
                               (default "GET /v1/models")
    GUARDWIRE_AUDIT_LOG        JSON-lines audit log path (off when unset)
    GUARDWIRE_LOG_LEVEL        debug, info (one access line per request), warning, error
    GUARDWIRE_HOST, GUARDWIRE_PORT, GUARDWIRE_WORKERS, GUARDWIRE_MAX_BODY_BYTES,
    GUARDWIRE_MAX_CONNECTIONS, GUARDWIRE_FORWARD_CLIENT_AUTH, GUARDWIRE_CONFIG

endpoints:
  POST /v1/chat/completions, /v1/messages (and Azure /openai/deployments/NAME/...)
                       guarded model calls, streamed or not
  GET  /v1/models      forwarded unchecked (the 'passthrough' allow-list)
  POST /guardwire/v1/check
                       run a policy's input or output stage on given messages or text
                       (no model call): action, findings, redacted text
  GET  /metrics        Prometheus metrics (all worker processes)
  GET  /healthz        liveness;  GET /readyz  readiness (upstreams reachable)

Exit status 2 on a configuration or policy error. SIGTERM drains in-flight requests.
SIGHUP, and a change to the config or a policy file (checked every 'reload_interval'
seconds, default 2), reload the policies in every worker: atomically, and a broken
file keeps the running policies (logged with file and line, counted in
guardwire_policy_reloads_total). Listen address, workers, upstreams and store need a
restart.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="guardwire",
        description="Guardrails and validation for model calls: check text against a policy, "
        "or run the sidecar proxy in front of an OpenAI- or Anthropic-compatible API.",
    )
    parser.add_argument("--version", action="version", version=f"guardwire {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = commands.add_parser(
        "check",
        help="check a text against a policy and print findings and the verdict",
        description="Check TEXT (or standard input with '-') against a policy. Exits 0 when "
        "the text is allowed (also when findings are only warned or redacted), 1 when it "
        "is blocked, 2 on a usage or policy error.",
    )
    check.add_argument(
        "text", metavar="TEXT", help="the text to check, or '-' to read standard input"
    )
    check.add_argument(
        "--policy", metavar="FILE", help="policy file or shipped pack name (default: built-in)"
    )
    check.add_argument(
        "--stage",
        choices=("input", "output"),
        default="input",
        help="check as a prompt (input, default) or as a model reply (output)",
    )
    check.add_argument(
        "--messages",
        action="store_true",
        help="TEXT is a JSON list of OpenAI-style messages (every role is checked)",
    )
    check.add_argument(
        "--context",
        metavar="PASSAGE",
        action="append",
        default=[],
        help="a retrieved passage the checks see as context (repeatable)",
    )
    check.add_argument("--model", help="the model the call is for (model limits)")
    check.add_argument("--json", action="store_true", help="print one JSON object instead of text")

    serve = commands.add_parser(
        "serve",
        help="run the sidecar proxy (OpenAI and Anthropic wire formats)",
        description="Run the guardwire proxy. With no upstream configured it answers from the "
        "built-in offline demo model (model 'guardwire-demo').",
        epilog=_SERVE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--config", metavar="FILE", help="server config YAML (env GUARDWIRE_CONFIG)")
    serve.add_argument(
        "--policy", metavar="FILE", help="policy file or pack name (env GUARDWIRE_POLICY)"
    )
    serve.add_argument(
        "--upstream", metavar="URL", help="upstream base URL (env GUARDWIRE_UPSTREAM)"
    )
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8787)")
    serve.add_argument("--workers", type=int, help="worker processes (default 1)")

    from guard._cli_budgets import add_parser

    add_parser(commands)
    from guard._cli_approve import add_parser as add_approve

    add_approve(commands)
    from guard._cli_test import add_parser as add_test

    add_test(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``guardwire`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_ERROR
    try:
        if args.command == "check":
            return _check(args)
        if args.command == "serve":
            from guard.proxy.server import serve

            return serve(args)
        if args.command == "budgets":
            from guard._cli_budgets import run

            return run(args)
        if args.command == "test":
            from guard._cli_test import run as run_tests

            return run_tests(args)
        if args.command == "approve":
            from guard._cli_approve import run as approve

            return approve(args)
    except PolicyError as exc:
        print(f"guardwire: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except ConfigError as exc:
        print(f"guardwire: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except GuardError as exc:
        print(f"guardwire: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    parser.error(f"unknown command {args.command!r}")
    return EXIT_ERROR


def _check(args: argparse.Namespace) -> int:
    from guard.engine import Guard
    from guard.policy_tests import evaluate

    text = sys.stdin.read() if args.text == "-" else args.text
    messages = None
    if args.messages:
        try:
            messages = json.loads(text)
        except ValueError:
            print("guardwire: --messages: TEXT is not valid JSON", file=sys.stderr)
            return EXIT_ERROR
        if args.stage == "output" or not isinstance(messages, list):
            print(
                "guardwire: --messages takes a JSON list of messages (input stage)",
                file=sys.stderr,
            )
            return EXIT_ERROR
    guard = Guard(args.policy)
    # The same evaluation as POST /guardwire/v1/check and `guardwire test`.
    try:
        evaluation = evaluate(
            guard,
            args.stage,
            text=None if messages is not None else text,
            messages=messages,
            context=args.context,
            model=args.model,
        )
    except TypeError as exc:
        print(f"guardwire: --messages: {exc}", file=sys.stderr)
        return EXIT_ERROR
    decision = evaluation.decision
    if args.json:
        print(
            json.dumps(
                {
                    "verdict": decision.action.label,
                    "recorded": decision.recorded_action.label,
                    "stage": decision.stage.value,
                    "policy": decision.policy,
                    "policy_hash": decision.policy_hash,
                    "message": decision.message(),
                    "latency_ms": round(decision.latency * 1000, 4),
                    "redacted": (evaluation.messages if messages is not None
                                 else evaluation.text),
                    "checks": [
                        {"check": v.check, "action": v.action.label, "shadow": v.shadow,
                         "findings": [f.as_record() for f in v.findings]}
                        for v in decision.verdicts
                    ],
                },
                indent=2,
            )
        )  # fmt: skip
    else:
        _print_human(decision)
    return EXIT_BLOCKED if decision.blocked else EXIT_ALLOWED


def _print_human(decision: object) -> None:
    from guard.decision import Decision

    assert isinstance(decision, Decision)
    print(
        f"verdict: {decision.action.label}   (policy {decision.policy}@{decision.policy_hash}, "
        f"{decision.stage.value} stage, {decision.latency * 1000:.2f} ms)"
    )
    if decision.recorded_action != decision.action:
        print(f"shadow:  would have been {decision.recorded_action.label}")
    findings = decision.findings
    if not findings:
        print("findings: none")
    for finding in findings:
        print(
            f"  - {finding.check}: {finding.action.label:<6} {finding.kind} "
            f"rule '{finding.rule}' at {finding.start}-{finding.end}"
        )
    if decision.action.label != "allow":
        print(decision.message())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
