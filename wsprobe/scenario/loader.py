"""Read and check a scenario file before anything is sent; every error names file:line:column.

The YAML is composed into nodes (which carry their marks) and read node by node, so a wrong key,
an unknown step or actor, a bad predicate or regex, an unknown variable or a field that the
message type does not have is reported where it was written::

    chat.yaml:14:9: unknown step 'expct' (did you mean 'expect'?)
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from wsprobe.core import Direction, SchemaSet
from wsprobe.errors import InputError
from wsprobe.scenario.fields import field_problem
from wsprobe.scenario.findings import Severity
from wsprobe.scenario.model import (
    ActorSpec,
    Capture,
    Close,
    Connect,
    Drop,
    Every,
    Expect,
    ExpectClose,
    ExpectNone,
    Location,
    Parallel,
    Reconnect,
    Scenario,
    Send,
    Step,
    Wait,
    WhereSpec,
)
from wsprobe.scenario.predicates import OPERATORS, Predicate, PredicateError, split_path
from wsprobe.scenario.templates import BUILTINS, names_in

__all__ = ["ScenarioError", "load_scenario", "parse_duration", "parse_scenario"]

STEP_KINDS = ("connect", "close", "drop", "reconnect", "send", "expect", "expect_none",
              "capture", "expect_close", "wait", "every", "parallel")
_TOP = ("name", "description", "vars", "timeouts", "actors", "steps", "teardown")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$")
_TEMPLATE = re.compile(r"\$\{[^}]*\}")


class ScenarioError(InputError):
    """A scenario file that cannot run; the message starts with ``file:line:column``."""

    def __init__(self, loc: Location | str, message: str) -> None:
        super().__init__(f"{loc}: {message}")
        self.location = loc
        self.reason = message


def parse_duration(text: Any) -> float:
    """``2``, ``1.5``, ``"100ms"``, ``"2s"``, ``"1m"`` -> seconds; ValueError otherwise."""
    if isinstance(text, int | float) and not isinstance(text, bool) and text >= 0:
        return float(text)
    match = _DURATION.match(str(text)) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"not a duration: {text!r} (write 2, 2s, 500ms or 1m)")
    value = float(match.group(1))
    return value * {"ms": 0.001, "s": 1.0, "m": 60.0}[match.group(2) or "s"]


def _hint(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class _Reader:
    """Walks the node tree of one file."""

    def __init__(self, path: str, schemas: SchemaSet | None, known: set[str]) -> None:
        self.path = path
        self.schemas = schemas
        self.known = known
        self.actors: dict[str, ActorSpec] = {}
        self._constructor = yaml.SafeLoader("")
        self.templated: list[tuple[Any, Location]] = []

    # -- nodes --------------------------------------------------------------------------------

    def loc(self, node: yaml.Node) -> Location:
        return Location(self.path, node.start_mark.line + 1, node.start_mark.column + 1)

    def fail(self, node: yaml.Node | Location, message: str) -> ScenarioError:
        return ScenarioError(node if isinstance(node, Location) else self.loc(node), message)

    def value(self, node: yaml.Node) -> Any:
        try:
            return self._constructor.construct_document(node)
        except yaml.YAMLError as exc:
            raise self.fail(node, f"cannot read this value: {exc}") from None

    def mapping(self, node: yaml.Node, what: str, allowed: Iterable[str] | None = None
                ) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping")
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        allowed = tuple(allowed) if allowed is not None else None
        for key_node, value_node in node.value:
            key = self.value(key_node)
            if not isinstance(key, str):
                raise self.fail(key_node, f"keys of {what} must be text, got {key!r}")
            if key in out:
                raise self.fail(key_node, f"{key!r} appears twice in {what}")
            if allowed is not None and key not in allowed:
                raise self.fail(key_node, f"unknown key {key!r} in {what}{_hint(key, allowed)}"
                                f" (allowed: {', '.join(allowed)})")
            out[key] = (key_node, value_node)
        return out

    def text(self, node: yaml.Node, what: str) -> str:
        value = self.value(node)
        if not isinstance(value, str) or not value:
            raise self.fail(node, f"{what} must be non-empty text")
        return value

    def number(self, node: yaml.Node, what: str, *, minimum: int = 0) -> int:
        value = self.value(node)
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise self.fail(node, f"{what} must be a whole number >= {minimum}")
        return value

    def duration(self, node: yaml.Node) -> float:
        try:
            return parse_duration(self.value(node))
        except ValueError as exc:
            raise self.fail(node, str(exc)) from None

    def boolean(self, node: yaml.Node, what: str) -> bool:
        value = self.value(node)
        if not isinstance(value, bool):
            raise self.fail(node, f"{what} must be true or false")
        return value

    def templated_value(self, node: yaml.Node) -> Any:
        value = self.value(node)
        self.templated.append((value, self.loc(node)))
        return value

    def str_map(self, node: yaml.Node, what: str) -> dict[str, Any]:
        return {k: self.templated_value(v) for k, (_, v) in self.mapping(node, what).items()}

    def str_list(self, node: yaml.Node, what: str) -> tuple[str, ...]:
        value = self.value(node)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(node, f"{what} must be a list of names")
        return tuple(value)

    # -- the file -----------------------------------------------------------------------------

    def scenario(self, root: yaml.Node, default_name: str) -> Scenario:
        top = self.mapping(root, "a scenario", _TOP)
        if "actors" not in top:
            raise self.fail(root, "a scenario needs 'actors' (the named clients)")
        if "steps" not in top:
            raise self.fail(root, "a scenario needs 'steps'")
        name = self.text(top["name"][1], "name") if "name" in top else default_name
        description = str(self.value(top["description"][1]) or "") if "description" in top else ""
        variables: dict[str, Any] = {}
        if "vars" in top and not _null(top["vars"][1]):
            variables = self.str_map(top["vars"][1], "vars")
        self.known |= set(variables)
        step_timeout = run_timeout = None
        if "timeouts" in top:
            limits = self.mapping(top["timeouts"][1], "timeouts", ("step", "run"))
            step_timeout = self.duration(limits["step"][1]) if "step" in limits else None
            run_timeout = self.duration(limits["run"][1]) if "run" in limits else None
        for actor_name, (key_node, spec_node) in self.mapping(top["actors"][1], "actors").items():
            self.actors[actor_name] = self.actor(actor_name, key_node, spec_node)
        if not self.actors:
            raise self.fail(top["actors"][1], "declare at least one actor")
        # captures anywhere in the file may be used by later steps
        self.known |= set(self._capture_names(root))
        steps = self.steps(top["steps"][1], "steps")
        if not steps:
            raise self.fail(top["steps"][1], "'steps' is empty")
        teardown = self.steps(top["teardown"][1], "teardown") if "teardown" in top else ()
        self.check_templates()
        return Scenario(name=name, path=self.path, actors=dict(self.actors), steps=steps,
                        teardown=teardown, description=description, variables=variables,
                        step_timeout=step_timeout, run_timeout=run_timeout)

    def _capture_names(self, node: yaml.Node) -> Iterator[str]:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
                if key in {"capture", "values"} and isinstance(value_node, yaml.MappingNode):
                    for k, v in value_node.value:
                        if isinstance(k, yaml.ScalarNode) and isinstance(v, yaml.ScalarNode):
                            yield str(k.value)
                yield from self._capture_names(value_node)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                yield from self._capture_names(item)

    def check_templates(self) -> None:
        for value, loc in self.templated:
            for name in names_in(value):
                if name not in self.known and name not in BUILTINS:
                    raise self.fail(loc, f"unknown variable ${{{name}}}{_hint(name, self.known)}"
                                         " (define it under 'vars', capture it, or pass "
                                         f"--var {name}=...)")

    def actor(self, name: str, key_node: yaml.Node, node: yaml.Node) -> ActorSpec:
        if "/" in name or name == "*":
            raise self.fail(key_node, f"actor name {name!r} may not contain '/' or be '*'")
        if _null(node):
            return ActorSpec(name=name, loc=self.loc(key_node))
        keys = self.mapping(node, f"actor {name!r}", ("sockets", "url", "path", "query",
                                                      "headers", "origin", "subprotocols"))
        sockets = self.str_list(keys["sockets"][1], "sockets") if "sockets" in keys else ("main",)
        if not sockets or len(set(sockets)) != len(sockets) or "*" in sockets:
            raise self.fail(keys["sockets"][1], "sockets must be distinct names (not '*')")
        return ActorSpec(
            name=name, sockets=sockets,
            url=self.templated_value(keys["url"][1]) if "url" in keys else None,
            path=self.text(keys["path"][1], "path") if "path" in keys else None,
            query=self.str_map(keys["query"][1], "query") if "query" in keys else {},
            headers=self.str_map(keys["headers"][1], "headers") if "headers" in keys else {},
            origin=self.templated_value(keys["origin"][1]) if "origin" in keys else None,
            subprotocols=(self.str_list(keys["subprotocols"][1], "subprotocols")
                          if "subprotocols" in keys else ()),
            loc=self.loc(key_node))

    # -- steps --------------------------------------------------------------------------------

    def steps(self, node: yaml.Node, what: str) -> tuple[Step, ...]:
        if _null(node):
            return ()
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"{what} must be a list of steps")
        return tuple(self.step(item) for item in node.value)

    def step(self, node: yaml.Node) -> Step:
        if not isinstance(node, yaml.MappingNode) or len(node.value) != 1:
            raise self.fail(node, "a step is a mapping with one key, the kind of step "
                                  f"({', '.join(STEP_KINDS)})")
        key_node, body = node.value[0]
        kind = self.value(key_node)
        if kind not in STEP_KINDS:
            raise self.fail(key_node, f"unknown step {kind!r}{_hint(str(kind), STEP_KINDS)}")
        read: Callable[[yaml.Node, Location], Step] = getattr(self, f"step_{kind}")
        return read(body, self.loc(key_node))

    def target(self, node: yaml.Node, keys: dict[str, tuple[yaml.Node, yaml.Node]] | None,
               *, any_socket: bool = False) -> tuple[str, str | None]:
        """The actor (and socket) a step acts on: ``alice``, ``alice/chat`` or keys."""
        if keys is None:
            written, where = self.text(node, "the actor"), node
            socket_node = None
        else:
            if "actor" not in keys:
                raise self.fail(node, "this step needs 'actor'")
            where = keys["actor"][1]
            written = self.text(where, "actor")
            socket_node = keys["socket"][1] if "socket" in keys else None
        actor, _, socket = written.partition("/")
        if actor not in self.actors:
            raise self.fail(where, f"unknown actor {actor!r}{_hint(actor, self.actors)} "
                                   f"(declared: {', '.join(self.actors)})")
        if socket_node is not None:
            if socket:
                raise self.fail(socket_node, "give the socket once (actor: a/s or socket: s)")
            socket, where = self.text(socket_node, "socket"), socket_node
        if not socket:
            return actor, None
        if socket == "*" and any_socket:
            return actor, socket
        declared = self.actors[actor].sockets
        if socket not in declared:
            raise self.fail(where, f"actor {actor!r} has no socket {socket!r}"
                                   f"{_hint(socket, declared)} (declared: {', '.join(declared)})")
        return actor, socket

    def _simple(self, body: yaml.Node, allowed: tuple[str, ...]
                ) -> tuple[tuple[str, str | None], dict[str, tuple[yaml.Node, yaml.Node]]]:
        if isinstance(body, yaml.ScalarNode):
            return self.target(body, None), {}
        keys = self.mapping(body, "this step", allowed)
        return self.target(body, keys), keys

    def step_connect(self, body: yaml.Node, loc: Location) -> Step:
        (actor, socket), k = self._simple(body, (
            "actor", "socket", "url", "path", "query", "headers", "origin", "subprotocols",
            "timeout", "expect_refused"))
        return Connect(
            loc=loc, actor=actor, socket=socket,
            url=self.templated_value(k["url"][1]) if "url" in k else None,
            path=self.text(k["path"][1], "path") if "path" in k else None,
            query=self.str_map(k["query"][1], "query") if "query" in k else None,
            headers=self.str_map(k["headers"][1], "headers") if "headers" in k else None,
            origin=self.templated_value(k["origin"][1]) if "origin" in k else None,
            subprotocols=(self.str_list(k["subprotocols"][1], "subprotocols")
                          if "subprotocols" in k else None),
            timeout=self.duration(k["timeout"][1]) if "timeout" in k else None,
            expect_refused=(self.boolean(k["expect_refused"][1], "expect_refused")
                            if "expect_refused" in k else False))

    def step_close(self, body: yaml.Node, loc: Location) -> Step:
        (actor, socket), k = self._simple(body, ("actor", "socket", "code", "reason"))
        code = self.number(k["code"][1], "code", minimum=1000) if "code" in k else 1000
        reason = str(self.value(k["reason"][1])) if "reason" in k else ""
        return Close(loc=loc, actor=actor, socket=socket, code=code, reason=reason)

    def step_drop(self, body: yaml.Node, loc: Location) -> Step:
        (actor, socket), _ = self._simple(body, ("actor", "socket"))
        return Drop(loc=loc, actor=actor, socket=socket)

    def step_reconnect(self, body: yaml.Node, loc: Location) -> Step:
        (actor, socket), k = self._simple(body, ("actor", "socket", "timeout"))
        timeout = self.duration(k["timeout"][1]) if "timeout" in k else None
        return Reconnect(loc=loc, actor=actor, socket=socket, timeout=timeout)

    def step_send(self, body: yaml.Node, loc: Location) -> Step:
        k = self.mapping(body, "send", ("actor", "socket", "frame", "raw"))
        actor, socket = self.target(body, k, any_socket=True)
        if ("frame" in k) == ("raw" in k):
            raise self.fail(body, "send needs exactly one of 'frame' (a JSON object) or 'raw' "
                                  "(text sent as is)")
        if "frame" in k:
            frame = self.templated_value(k["frame"][1])
            return Send(loc=loc, actor=actor, socket=socket, frame=frame)
        raw = self.templated_value(k["raw"][1])
        if not isinstance(raw, str):
            raise self.fail(k["raw"][1], "raw must be text")
        return Send(loc=loc, actor=actor, socket=socket, raw=raw)

    def _matching(self, k: dict[str, tuple[yaml.Node, yaml.Node]], body: yaml.Node
                  ) -> tuple[str | None, tuple[WhereSpec, ...], bool]:
        mtype = self.text(k["type"][1], "type") if "type" in k else None
        if mtype is None and "where" in k:
            raise self.fail(body, "'where' needs a 'type'")
        check_fields = (self.boolean(k["check_fields"][1], "check_fields")
                        if "check_fields" in k else True)
        if mtype is not None and self.schemas is not None:
            known = self.schemas.types(Direction.SERVER)
            if mtype not in known:
                raise self.fail(k["type"][1], f"unknown server-to-client type {mtype!r}"
                                              f"{_hint(mtype, known)} (add a schema with "
                                              "--schemas to expect it)")
        where = self.where(k["where"][1], mtype, check_fields) if "where" in k else ()
        return mtype, where, check_fields

    def where(self, node: yaml.Node, mtype: str | None, check_fields: bool
              ) -> tuple[WhereSpec, ...]:
        out: list[WhereSpec] = []
        for path, (key_node, spec_node) in self.mapping(node, "where").items():
            try:
                parts = split_path(path)
            except PredicateError as exc:
                raise self.fail(key_node, str(exc)) from None
            if isinstance(spec_node, yaml.MappingNode):
                ops = self.mapping(spec_node, f"the predicate on {path}", sorted(OPERATORS))
                if not ops:
                    raise self.fail(spec_node, f"the predicate on {path} has no operator")
                pairs = [(op, v) for op, (_, v) in ops.items()]
            else:
                pairs = [("eq", spec_node)]
            for op, operand_node in pairs:
                operand = self.templated_value(operand_node)
                probe = _TEMPLATE.sub("x", operand) if isinstance(operand, str) else operand
                if op in {"lt", "le", "gt", "ge"} and isinstance(operand, str) and \
                        _TEMPLATE.fullmatch(operand):
                    probe = 0
                try:
                    Predicate.build(path, op, probe)
                except PredicateError as exc:
                    raise self.fail(operand_node, f"bad predicate on {path}: {exc}") from None
                absent_ok = op == "present" and operand is False
                if check_fields and not absent_ok:
                    self.check_field(key_node, mtype, parts)
                out.append(WhereSpec(path, op, operand, self.loc(operand_node)))
        return tuple(out)

    def check_field(self, node: yaml.Node, mtype: str | None, parts: tuple[str, ...]) -> None:
        if mtype is None or self.schemas is None:
            return
        schema_file = self.schemas.schema_path(Direction.SERVER, mtype)
        problem = field_problem(schema_file, parts) if schema_file is not None else None
        if problem:
            raise self.fail(node, f"{mtype} has no field {problem.partition(':')[0]}: "
                                  f"{problem.partition(': ')[2]} (set check_fields: false "
                                  "if your backend adds it)")

    def _expect_like(self, body: yaml.Node, loc: Location, *, capture_key: str
                     ) -> Expect:
        k = self.mapping(body, "expect", ("actor", "socket", "type", "where", "timeout",
                                          "count", "sockets", capture_key, "check_fields",
                                          "in_order", "severity"))
        actor, socket = self.target(body, k)
        mtype, where, check_fields = self._matching(k, body)
        mode = "every"
        if "sockets" in k:
            mode = self.value(k["sockets"][1])
            if mode not in {"every", "any"}:
                raise self.fail(k["sockets"][1], "sockets must be 'every' or 'any'")
        captures: list[Capture] = []
        if capture_key in k:
            for name, (name_node, path_node) in self.mapping(k[capture_key][1],
                                                             capture_key).items():
                path = self.text(path_node, "a captured field")
                try:
                    parts = split_path(path)
                except PredicateError as exc:
                    raise self.fail(path_node, str(exc)) from None
                if check_fields:
                    self.check_field(path_node, mtype, parts)
                captures.append(Capture(name, path, self.loc(name_node)))
        order = None
        if "in_order" in k:
            node = k["in_order"][1]
            if mtype is None:
                raise self.fail(node, "'in_order' needs a 'type'")
            if "count" in k:
                raise self.fail(k["count"][1], "'count' is the length of 'in_order'; drop it")
            if not isinstance(node, yaml.SequenceNode) or not node.value:
                raise self.fail(node, "in_order must be a list of 'where' mappings, one per "
                                      "frame, in the order they must arrive")
            order = tuple(self.where(item, mtype, check_fields) for item in node.value)
        return Expect(loc=loc, actor=actor, socket=socket, type=mtype, where=where,
                      timeout=self.duration(k["timeout"][1]) if "timeout" in k else None,
                      count=self.number(k["count"][1], "count", minimum=1) if "count" in k else 1,
                      mode="any" if mode == "any" else "every", capture=tuple(captures),
                      order=order, severity=self.severity(k))

    def severity(self, k: dict[str, tuple[yaml.Node, yaml.Node]]) -> Severity:
        if "severity" not in k:
            return Severity.FAILURE
        value = self.value(k["severity"][1])
        if value not in {s.value for s in Severity}:
            raise self.fail(k["severity"][1], "severity must be 'failure' (a MUST) or 'warning' "
                                              "(a SHOULD: reported, the scenario goes on)")
        return Severity(value)

    def step_expect(self, body: yaml.Node, loc: Location) -> Step:
        return self._expect_like(body, loc, capture_key="capture")

    def step_capture(self, body: yaml.Node, loc: Location) -> Step:
        step = self._expect_like(body, loc, capture_key="values")
        if not step.capture:
            raise self.fail(body, "capture needs 'values' (name: field path)")
        return step

    def step_expect_none(self, body: yaml.Node, loc: Location) -> Step:
        k = self.mapping(body, "expect_none", ("actor", "socket", "type", "where", "within",
                                               "check_fields", "severity"))
        actor, socket = self.target(body, k)
        mtype, where, _ = self._matching(k, body)
        within = self.duration(k["within"][1]) if "within" in k else None
        return ExpectNone(loc=loc, actor=actor, socket=socket, type=mtype, where=where,
                          within=within, severity=self.severity(k))

    def step_expect_close(self, body: yaml.Node, loc: Location) -> Step:
        (actor, socket), k = self._simple(body, ("actor", "socket", "codes", "timeout",
                                                 "severity"))
        codes: tuple[int, ...] = ()
        if "codes" in k:
            value = self.value(k["codes"][1])
            value = [value] if isinstance(value, int) else value
            if not isinstance(value, list) or not all(
                    isinstance(c, int) and not isinstance(c, bool) for c in value):
                raise self.fail(k["codes"][1], "codes must be a close code or a list of them")
            codes = tuple(value)
        return ExpectClose(loc=loc, actor=actor, socket=socket, codes=codes,
                           timeout=self.duration(k["timeout"][1]) if "timeout" in k else None,
                           severity=self.severity(k))

    def step_wait(self, body: yaml.Node, loc: Location) -> Step:
        return Wait(loc=loc, seconds=self.duration(body))

    def step_every(self, body: yaml.Node, loc: Location) -> Step:
        k = self.mapping(body, "every", ("interval", "times", "background", "steps"))
        if "steps" not in k:
            raise self.fail(body, "every needs 'steps'")
        interval: float | None = None
        if "interval" in k and self.value(k["interval"][1]) != "heartbeat":
            interval = self.duration(k["interval"][1])
            if interval <= 0:
                raise self.fail(k["interval"][1], "interval must be more than 0")
        background = (self.boolean(k["background"][1], "background")
                      if "background" in k else False)
        times = self.number(k["times"][1], "times", minimum=1) if "times" in k else None
        if times is None and not background:
            raise self.fail(body, "every needs 'times' (or 'background: true' to repeat until "
                                  "the main steps end)")
        steps = self.steps(k["steps"][1], "steps")
        if not steps:
            raise self.fail(k["steps"][1], "'steps' is empty")
        return Every(loc=loc, steps=steps, times=times, interval=interval,
                     background=background)

    def step_parallel(self, body: yaml.Node, loc: Location) -> Step:
        if not isinstance(body, yaml.SequenceNode) or len(body.value) < 2:
            raise self.fail(body, "parallel needs a list of at least two branches (each a step "
                                  "or a list of steps)")
        branches = tuple(self.steps(item, "a branch") if isinstance(item, yaml.SequenceNode)
                         else (self.step(item),) for item in body.value)
        return Parallel(loc=loc, branches=branches)


def _null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def parse_scenario(text: str, path: str = "<scenario>", *, schemas: SchemaSet | None = None,
                   variables: Iterable[str] = ()) -> Scenario:
    """Check and build a scenario from YAML text. ``variables``: names given with ``--var``."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(path, mark.line + 1, mark.column + 1) if mark else Location(path, 1, 1)
        raise ScenarioError(where, f"YAML syntax error: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(Location(path, 1, 1), f"YAML error: {exc}") from None
    if root is None:
        raise ScenarioError(Location(path, 1, 1), "the file is empty")
    reader = _Reader(path, schemas, set(variables))
    return reader.scenario(root, Path(path).stem.removesuffix(".wsprobe"))


def load_scenario(path: Path | str, *, schemas: SchemaSet | None = None,
                  variables: Iterable[str] = ()) -> Scenario:
    """Read and check a scenario file (see :func:`parse_scenario`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such scenario file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    return parse_scenario(text, str(path), schemas=schemas, variables=variables)
