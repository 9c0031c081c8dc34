"""Model references in Python source, found with ``ast`` and never by running the code.

Why constant propagation: real code rarely writes ``from_pretrained("org/name")``; it writes
``MODEL = "org/name"`` at the top, ``f"{ORG}/{NAME}"``, a loop over a list, a parameter with a
default, ``os.getenv("MODEL", "org/name")`` or an argparse/dataclass default. Each of these is
followed inside one module (flow-insensitively: every value a name may hold is reported). What
cannot be decided statically — a value imported from elsewhere, a parameter no caller in the
module fills, ``self.x`` set from outside — is reported as an *unresolved* reference with its
file, line and source expression, never silently dropped.
"""

from __future__ import annotations

import ast
import bisect
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from licenses.engine.refscan.ids import PACKAGED_BUILDERS, Kind, Reference, make_reference


@dataclass(frozen=True)
class CallSpec:
    """Where a model-loading call takes its repo id."""

    kind: Kind
    pos: int | None
    kws: tuple[str, ...]
    allow_single: bool = True
    repo_type_kw: bool = False  # kind follows ``repo_type=`` ("dataset" → dataset, "space" → skip)
    require_prefix: bool = False  # only ``hf-hub:``-prefixed values are Hub ids (timm, open_clip)
    st_prefix: bool = False  # sentence-transformers: bare names live under ``sentence-transformers/``


_REPO_KWS = ("repo_id",)
_HUB_FUNCS = [
    "hf_hub_download",
    "snapshot_download",
    "hf_hub_url",
    "model_info",
    "repo_info",
    "list_repo_files",
    "list_repo_refs",
    "list_repo_tree",
    "list_repo_commits",
    "get_safetensors_metadata",
    "file_exists",
    "try_to_load_from_cache",
    "get_hf_file_metadata",
]
_INFERENCE_METHODS = [
    "text_generation",
    "chat_completion",
    "text_to_image",
    "feature_extraction",
    "sentence_similarity",
    "automatic_speech_recognition",
    "image_to_text",
    "summarization",
    "translation",
    "fill_mask",
    "text_classification",
    "token_classification",
    "question_answering",
    "zero_shot_classification",
    "text_to_speech",
    "image_classification",
    "object_detection",
    "image_segmentation",
]

SPECS: dict[str, CallSpec] = {
    "from_pretrained": CallSpec(
        "model",
        0,
        ("pretrained_model_name_or_path", "model_name_or_path", "model_id", "model_name", "repo_id"),
    ),
    "from_single_file": CallSpec("model", 0, ("pretrained_model_link_or_path",), allow_single=False),
    "load_adapter": CallSpec("model", 0, ("peft_model_id", "model_id")),
    "pipeline": CallSpec("model", 1, ("model",)),
    "load_dataset": CallSpec("dataset", 0, ("path",)),
    "dataset_info": CallSpec("dataset", 0, _REPO_KWS),
    "SentenceTransformer": CallSpec("model", 0, ("model_name_or_path",), st_prefix=True),
    "CrossEncoder": CallSpec("model", 0, ("model_name_or_path", "model_name")),
    "SparseEncoder": CallSpec("model", 0, ("model_name_or_path",)),
    "InferenceClient": CallSpec("model", 0, ("model",)),
    "AsyncInferenceClient": CallSpec("model", 0, ("model",)),
    "LLM": CallSpec("model", 0, ("model",), allow_single=False),
    "create_model": CallSpec("model", 0, ("model_name",), require_prefix=True),
    "create_model_and_transforms": CallSpec("model", 0, ("model_name",), require_prefix=True),
    **{name: CallSpec("model", 0, _REPO_KWS, repo_type_kw=True) for name in _HUB_FUNCS},
    **{name: CallSpec("model", None, ("model",)) for name in _INFERENCE_METHODS},
}

#: Names whose mention makes a line "hot": loading calls and argparse options (their defaults).
HOT_NAMES: tuple[str, ...] = (*sorted(SPECS), "add_argument")
_IDENT = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def mentions_loader(source: str) -> bool:
    """Cheap pre-filter: a file that names no loading call cannot contain a reference.

    Plain substring search (C speed) rather than one big alternation regex, which is several times
    slower on large code bases; the word-boundary check happens in ``_match_lines``.
    """
    return any(name in source for name in SPECS)


def _import_aliases(tree: ast.Module, source: str | None) -> tuple[dict[str, str], frozenset[str]]:
    """Loading calls imported under another name (local name -> loader name), and the names the
    ``transformers`` module goes by; without them ``hf_pipeline(model=…)`` and ``tr.pipeline(…)``
    were dropped silently. The walk runs only when the source says ``as`` at all."""
    aliases: dict[str, str] = {}
    modules = {"transformers"}
    if source is not None and " as " not in source:
        return aliases, frozenset(modules)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.asname and alias.name in SPECS:
                    aliases[alias.asname] = alias.name
        elif isinstance(node, ast.Import):
            modules.update(a.asname for a in node.names if a.asname and a.name == "transformers")
    return aliases, frozenset(modules)


def _match_lines(source: str, names: Iterable[str] = HOT_NAMES) -> list[int]:
    """Sorted 1-based numbers of the lines where one of ``names`` occurs as a whole word."""
    positions: list[int] = []
    for name in names:
        start = source.find(name)
        while start >= 0:
            end = start + len(name)
            if (start == 0 or source[start - 1] not in _IDENT) and (
                end >= len(source) or source[end] not in _IDENT
            ):
                positions.append(start)
            start = source.find(name, end)
    out: list[int] = []
    line, pos = 1, 0
    for p in sorted(positions):
        line += source.count("\n", pos, p)
        pos = p
        if not out or out[-1] != line:
            out.append(line)
    return out


def _spans(node: ast.AST, lines: list[int]) -> bool:
    """Whether ``node`` covers one of ``lines`` (nodes without positions always do)."""
    lo = getattr(node, "lineno", None)
    if lo is None:
        return True
    hi = getattr(node, "end_lineno", None) or lo
    i = bisect.bisect_left(lines, lo)
    return i < len(lines) and lines[i] <= hi


_MAX_VALUES = 32
_MAX_DEPTH = 12


@dataclass
class _Opaque:
    """A binding whose value is not statically known (import, ``with … as``, unpacking …)."""

    text: str


@dataclass
class _Loop:
    """``for name in ITER`` — the name takes each element of ITER."""

    iter: ast.expr


@dataclass
class _Scoped:
    """A value bound to ``self.x`` inside a method: names in it resolve in that method's scope."""

    value: ast.expr
    scope: _Scope


@dataclass
class _Scope:
    kind: str  # module | function | class
    parent: _Scope | None
    name: str = ""
    cls: str | None = None  # the class a method belongs to
    assigns: dict[str, list[object]] = field(default_factory=dict)
    pending: list[ast.stmt] | None = None  # a body not visited yet (no loading call in it)
    params: dict[str, tuple[int, ast.expr | None]] = field(default_factory=dict)

    def bind(self, name: str, value: object) -> None:
        self.assigns.setdefault(name, []).append(value)


@dataclass
class _Vals:
    """Values an expression may take (each with a provenance note) and the parts that stay unknown."""

    values: list[tuple[str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def extend(self, other: _Vals) -> None:
        self.values.extend(other.values)
        self.missing.extend(other.missing)


def _unparse(node: ast.AST, limit: int = 120) -> str:
    try:
        text = ast.unparse(node)
    except Exception:  # pragma: no cover - ast.unparse handles every node the parser makes
        text = type(node).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ModuleScanner:
    """One pass over a module's tree records bindings and candidate calls; resolution follows."""

    def __init__(self, tree: ast.Module, source: str | None = None):
        self.tree = tree
        self.source = source
        self.module = _Scope("module", None)
        self.classes: dict[str, _Scope] = {}
        self.attr_defaults: dict[str, list[tuple[object, str]]] = {}  # argparse dests, dataclass fields
        self.candidates: list[tuple[ast.Call, _Scope, str, CallSpec]] = []
        self._def_scopes: dict[int, _Scope] = {}
        self._callsites: dict[str, list[tuple[ast.Call, _Scope]]] = {}
        # With the source at hand, only expressions on lines naming a loading call are walked: the
        # rest of a module only contributes bindings, which the statement pass records cheaply.
        # ``from transformers import pipeline as hf_pipeline`` / ``import transformers as tr``
        self.aliases, self.transformers_names = _import_aliases(tree, source)
        hot = (*HOT_NAMES, *self.aliases)
        self._hot = _match_lines(source, hot) if source is not None else None
        self._methods: dict[str, list[_Scope]] = {}
        self._visit_body(tree.body, self.module)

    # ---- pass 1: bindings and calls ---------------------------------------------------

    def _visit_body(self, body: Iterable[ast.stmt], scope: _Scope) -> None:
        for stmt in body:
            self._stmt(stmt, scope)

    def _stmt(self, node: ast.stmt, scope: _Scope) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            fscope = _Scope("function", scope if scope.kind != "class" else self.module, node.name)
            fscope.cls = scope.name if scope.kind == "class" else scope.cls
            self._def_scopes[id(node)] = fscope
            args = node.args
            positional = [*args.posonlyargs, *args.args]
            defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
            for i, (a, d) in enumerate(zip(positional, defaults, strict=True)):
                fscope.params[a.arg] = (i, d)
            for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True):
                fscope.params[a.arg] = (-1, d)
            for extra in (args.vararg, args.kwarg):
                if extra is not None:
                    fscope.bind(extra.arg, _Opaque(f"*{extra.arg}"))
            for dec in node.decorator_list:
                self._expr(dec, scope)
            for d in [*args.defaults, *(d for d in args.kw_defaults if d is not None)]:
                self._expr(d, scope)
            scope.bind(node.name, _Opaque(f"def {node.name}"))
            if fscope.cls:
                self._methods.setdefault(fscope.cls, []).append(fscope)
            if self._hot is None or _spans(node, self._hot):
                self._visit_body(node.body, fscope)
            else:
                fscope.pending = node.body  # visited on demand: most functions never matter
            return
        if isinstance(node, ast.ClassDef):
            cscope = self.classes.setdefault(node.name, _Scope("class", scope, node.name))
            for b in [*node.bases, *node.keywords, *node.decorator_list]:
                self._expr(b, scope)
            dataclass_like = any("dataclass" in _unparse(d) for d in node.decorator_list) or any(
                "BaseModel" in _unparse(b) or "Settings" in _unparse(b) for b in node.bases
            )
            for stmt in node.body:
                if (
                    isinstance(stmt, ast.AnnAssign)
                    and isinstance(stmt.target, ast.Name)
                    and stmt.value is not None
                ):
                    value = _field_default(stmt.value)
                    if dataclass_like:
                        self.attr_defaults.setdefault(stmt.target.id, []).append(
                            (value, f"default of field {node.name}.{stmt.target.id}")
                        )
            self._visit_body(node.body, cscope)
            scope.bind(node.name, _Opaque(f"class {node.name}"))
            return
        if isinstance(node, ast.Assign):
            self._expr(node.value, scope)
            for t in node.targets:
                self._bind_target(t, node.value, scope)
            return
        if isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self._expr(node.value, scope)
                value = _field_default(node.value) if scope.kind == "class" else node.value
                self._bind_target(node.target, value, scope)
            return
        if isinstance(node, ast.AugAssign):
            self._expr(node.value, scope)
            self._bind_target(node.target, None, scope, opaque=f"{_unparse(node)}")
            return
        if isinstance(node, ast.For | ast.AsyncFor):
            self._expr(node.iter, scope)
            if isinstance(node.target, ast.Name):
                scope.bind(node.target.id, _Loop(node.iter))
            else:
                self._bind_target(node.target, None, scope, opaque=f"for {_unparse(node.target)} in …")
            self._visit_body(node.body, scope)
            self._visit_body(node.orelse, scope)
            return
        if isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                self._expr(item.context_expr, scope)
                if item.optional_vars is not None:
                    self._bind_target(
                        item.optional_vars, None, scope, opaque=f"with … as {_unparse(item.optional_vars)}"
                    )
            self._visit_body(node.body, scope)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            mod = getattr(node, "module", None) or ""
            for alias in node.names:
                name = alias.asname or alias.name.split(".")[0]
                where = (
                    f"{'.' * getattr(node, 'level', 0)}{mod}"
                    if isinstance(node, ast.ImportFrom)
                    else alias.name
                )
                scope.bind(name, _Opaque(f"{alias.name} imported from {where}"))
            return
        # Everything else (if/while/try/match/return/expr …): visit expressions, recurse into blocks.
        for name, value in ast.iter_fields(node):
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                self._visit_body(value, scope)
            elif isinstance(value, list):
                for v in value:
                    if isinstance(v, ast.excepthandler):
                        if v.name:
                            scope.bind(v.name, _Opaque(f"except … as {v.name}"))
                        self._visit_body(v.body, scope)
                    elif isinstance(v, ast.match_case):
                        self._visit_body(v.body, scope)
                    elif isinstance(v, ast.AST):
                        self._expr(v, scope)
            elif isinstance(value, ast.AST) and name != "ctx":
                self._expr(value, scope)

    def _bind_target(self, target: ast.expr, value: ast.expr | None, scope: _Scope, opaque: str = "") -> None:
        if isinstance(target, ast.Name):
            scope.bind(target.id, value if value is not None else _Opaque(opaque or target.id))
        elif isinstance(target, ast.Tuple | ast.List):
            elts = value.elts if isinstance(value, ast.Tuple | ast.List) else None
            if elts is not None and len(elts) == len(target.elts):
                for t, v in zip(target.elts, elts, strict=True):
                    self._bind_target(t, v, scope, opaque)
            else:
                for t in target.elts:
                    self._bind_target(t, None, scope, opaque or f"{_unparse(target)} = …")
        elif (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and scope.cls
            and target.value.id in {"self", "cls"}
        ):
            cls = self.classes.setdefault(scope.cls, _Scope("class", self.module, scope.cls))
            cls.bind(
                target.attr,
                _Scoped(value, scope) if value is not None else _Opaque(opaque or _unparse(target)),
            )

    def _expr(self, node: ast.AST, scope: _Scope) -> None:
        """Find calls inside an expression; lambdas and comprehensions stay in the enclosing scope."""
        if self._hot is not None and not _spans(node, self._hot):
            return
        stack = [node]
        while stack:
            n = stack.pop()
            if isinstance(n, ast.Call):
                self._on_call(n, scope)
            stack.extend(ast.iter_child_nodes(n))

    def _on_call(self, call: ast.Call, scope: _Scope) -> None:
        func = call.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if not name:
            return
        if isinstance(func, ast.Name):
            name = self.aliases.get(name, name)
        if name == "add_argument":
            self._argparse(call)
        spec = SPECS.get(name)
        if spec is None:
            return
        if name in _INFERENCE_METHODS and not any(k.arg == "model" for k in call.keywords):
            return
        if (
            name == "pipeline"
            and not isinstance(func, ast.Name)
            and _unparse(func.value) not in self.transformers_names
        ):
            return
        if name == "from_pretrained" and isinstance(func, ast.Attribute) and "Peft" in _unparse(func.value):
            spec = CallSpec("model", 1, ("model_id",))
        self.candidates.append((call, scope, name, spec))

    def _argparse(self, call: ast.Call) -> None:
        opts = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        kw = {k.arg: k.value for k in call.keywords if k.arg}
        if "default" not in kw or not opts:
            return
        dest_node = kw.get("dest")
        if isinstance(dest_node, ast.Constant) and isinstance(dest_node.value, str):
            dest = dest_node.value
        else:
            long = next((o for o in opts if o.startswith("--")), opts[0])
            dest = long.lstrip("-").replace("-", "_")
        self.attr_defaults.setdefault(dest, []).append(
            (kw["default"], f"default of command-line option {opts[0]}")
        )

    # ---- callers of a module function, found lazily ----------------------------------------

    def callsites(self, name: str) -> list[tuple[ast.Call, _Scope]]:
        """Calls ``name(...)`` / ``self.name(...)`` in the module, each with the scope it sits in.

        Only needed when a loading call's argument is a parameter, so it is computed on demand and
        descends only into the statements covering lines that mention ``name(``.
        """
        if name not in self._callsites:
            lines = None
            if self.source is not None:
                lines = _match_lines(self.source, (name,))
            found: list[tuple[ast.Call, _Scope]] = []
            self._find_calls(self.tree.body, self.module, name, lines, found)
            self._callsites[name] = found
        return self._callsites[name]

    def _find_calls(
        self, body: Iterable[ast.AST], scope: _Scope, name: str, lines: list[int] | None, found: list
    ) -> None:
        for node in body:
            if lines is not None and not _spans(node, lines):
                continue
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self._find_in_exprs([*node.decorator_list, node.args], scope, name, lines, found)
                fscope = self._def_scopes.get(id(node), scope)
                self._ensure(fscope)
                self._find_calls(node.body, fscope, name, lines, found)
                continue
            if isinstance(node, ast.ClassDef):
                self._find_in_exprs([*node.bases, *node.decorator_list], scope, name, lines, found)
                self._find_calls(node.body, self.classes.get(node.name, scope), name, lines, found)
                continue
            exprs: list[ast.AST] = []
            for _field, value in ast.iter_fields(node):
                items = value if isinstance(value, list) else [value]
                for item in items:
                    if isinstance(item, ast.stmt):
                        self._find_calls([item], scope, name, lines, found)
                    elif isinstance(item, ast.excepthandler | ast.match_case):
                        self._find_calls(item.body, scope, name, lines, found)
                    elif isinstance(item, ast.AST):
                        exprs.append(item)
            self._find_in_exprs(exprs, scope, name, lines, found)

    def _find_in_exprs(
        self, exprs: Iterable[ast.AST], scope: _Scope, name: str, lines: list[int] | None, found: list
    ) -> None:
        for expr in exprs:
            for n in ast.walk(expr):
                if not isinstance(n, ast.Call):
                    continue
                f = n.func
                if (isinstance(f, ast.Name) and f.id == name) or (
                    isinstance(f, ast.Attribute)
                    and f.attr == name
                    and isinstance(f.value, ast.Name)
                    and f.value.id in {"self", "cls"}
                ):
                    found.append((n, scope))

    # ---- pass 2: values -----------------------------------------------------------------

    def values(
        self, node: ast.AST | None, scope: _Scope, depth: int = 0, seen: frozenset = frozenset()
    ) -> _Vals:
        out = _Vals()
        if node is None:
            return out
        if depth > _MAX_DEPTH:
            out.missing.append(_unparse(node))
            return out
        d = depth + 1
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                out.values.append((node.value, ""))
            return out  # None / numbers are not model ids and not unknowns either
        if isinstance(node, ast.JoinedStr):
            parts: list[_Vals] = []
            for v in node.values:
                if isinstance(v, ast.Constant):
                    parts.append(_Vals([(str(v.value), "")]))
                elif isinstance(v, ast.FormattedValue):
                    parts.append(self.values(v.value, scope, d, seen))
            return _product(parts, node)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return _product(
                [self.values(node.left, scope, d, seen), self.values(node.right, scope, d, seen)], node
            )
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
            fmt = self.values(node.left, scope, d, seen)
            elts = node.right.elts if isinstance(node.right, ast.Tuple) else [node.right]
            args = [self.values(e, scope, d, seen) for e in elts]
            return _apply(fmt, args, lambda f, a: f % tuple(a), node)
        if isinstance(node, ast.IfExp | ast.BoolOp):
            branches = [node.body, node.orelse] if isinstance(node, ast.IfExp) else node.values
            for b in branches:
                out.extend(self.values(b, scope, d, seen))
            return out
        if isinstance(node, ast.Call):
            return self._call_values(node, scope, d, seen)
        if isinstance(node, ast.Name):
            return self._name_values(node.id, scope, d, seen, node)
        if isinstance(node, ast.Attribute):
            return self._attr_values(node, scope, d, seen)
        if isinstance(node, ast.Subscript):
            return self._subscript_values(node, scope, d, seen)
        out.missing.append(_unparse(node))
        return out

    def _call_values(self, node: ast.Call, scope: _Scope, d: int, seen: frozenset) -> _Vals:
        func = node.func
        text = _unparse(func)
        out = _Vals()
        if text in {"os.getenv", "os.environ.get", "getenv", "environ.get"} and node.args:
            var = _unparse(node.args[0])
            default = (
                node.args[1]
                if len(node.args) > 1
                else next((k.value for k in node.keywords if k.arg == "default"), None)
            )
            if default is None:
                out.missing.append(_unparse(node))
                return out
            vals = self.values(default, scope, d, seen)
            return _Vals(
                [(v, f"default of environment variable {var}") for v, _ in vals.values], vals.missing
            )
        if isinstance(func, ast.Attribute) and func.attr == "join" and len(node.args) == 1:
            sep = self.values(func.value, scope, d, seen)
            seq = node.args[0]
            if isinstance(seq, ast.List | ast.Tuple):
                items = [self.values(e, scope, d, seen) for e in seq.elts]
                return _apply(sep, items, lambda s, a: s.join(a), node)
        if isinstance(func, ast.Attribute) and func.attr == "format":
            fmt = self.values(func.value, scope, d, seen)
            pos = [self.values(a, scope, d, seen) for a in node.args]
            names = [k.arg for k in node.keywords if k.arg]
            kwv = [self.values(k.value, scope, d, seen) for k in node.keywords if k.arg]
            n = len(pos)
            return _apply(
                fmt, pos + kwv, lambda f, a: f.format(*a[:n], **dict(zip(names, a[n:], strict=True))), node
            )
        if text in {"os.path.join", "posixpath.join", "Path", "pathlib.Path"} and node.args:
            items = [self.values(a, scope, d, seen) for a in node.args]
            return _apply(_Vals([("", "")]), items, lambda _s, a: "/".join(x.rstrip("/") for x in a), node)
        if text in {"str", "strip"} and len(node.args) == 1:
            return self.values(node.args[0], scope, d, seen)
        if (
            isinstance(func, ast.Attribute)
            and func.attr in {"strip", "lower", "rstrip", "lstrip"}
            and not node.args
        ):
            vals = self.values(func.value, scope, d, seen)
            op = func.attr
            return _Vals([(getattr(v, op)(), n) for v, n in vals.values], vals.missing)
        out.missing.append(_unparse(node))
        return out

    def _ensure(self, scope: _Scope) -> None:
        """Record the bindings of a function body skipped in pass 1, now that they are needed."""
        if scope.pending is not None:
            body, scope.pending = scope.pending, None
            self._visit_body(body, scope)

    def _lookup(self, name: str, scope: _Scope) -> tuple[_Scope | None, list[object] | None]:
        s: _Scope | None = scope
        while s is not None:
            self._ensure(s)
            if name in s.params or name in s.assigns:
                return s, s.assigns.get(name)
            s = s.parent
        return None, None

    def _name_values(self, name: str, scope: _Scope, d: int, seen: frozenset, node: ast.AST) -> _Vals:
        key = (id(scope), name)
        if key in seen:
            return _Vals(missing=[name])
        seen = seen | {key}
        owner, bindings = self._lookup(name, scope)
        out = _Vals()
        if owner is None:
            out.missing.append(name)
            return out
        if name in owner.params:
            out.extend(self._param_values(owner, name, d, seen))
        for b in bindings or ():
            out.extend(self._binding_values(b, owner, d, seen))
        return out

    def _binding_values(self, b: object, owner: _Scope, d: int, seen: frozenset) -> _Vals:
        if isinstance(b, _Opaque):
            return _Vals(missing=[b.text])
        if isinstance(b, _Scoped):
            return self.values(b.value, b.scope, d, seen)
        if isinstance(b, _Loop):
            seq = self._sequence(b.iter, owner, d, seen)
            if seq is None:
                return _Vals(missing=[f"for … in {_unparse(b.iter)}"])
            out = _Vals()
            for e in seq:
                out.extend(self.values(e, owner, d, seen))
            return out
        return self.values(b, owner, d, seen)  # type: ignore[arg-type]

    def _param_values(self, owner: _Scope, name: str, d: int, seen: frozenset) -> _Vals:
        """A parameter takes its default and whatever the module's own callers pass."""
        pos, default = owner.params[name]
        out = _Vals()
        if default is not None:
            vals = self.values(default, owner.parent or self.module, d, seen)
            out.values.extend((v, f"default of parameter {name!r} of {owner.name}()") for v, _ in vals.values)
            out.missing.extend(vals.missing)
        offset = 1 if owner.cls and pos >= 0 else 0  # skip self/cls in method calls
        found_any = default is not None
        for call, cscope in self.callsites(owner.name):
            arg: ast.expr | None = next((k.value for k in call.keywords if k.arg == name), None)
            if arg is None and pos >= 0 and pos - offset < len(call.args) and pos - offset >= 0:
                candidate = call.args[pos - offset]
                arg = None if isinstance(candidate, ast.Starred) else candidate
            if arg is None:
                continue
            found_any = True
            vals = self.values(arg, cscope, d, seen)
            line = getattr(call, "lineno", 0)
            out.values.extend(
                (v, f"passed as {name!r} to {owner.name}() at line {line}") for v, _ in vals.values
            )
            out.missing.extend(vals.missing)
        if not found_any:
            out.missing.append(f"parameter {name!r} of {owner.name}()")
        return out

    def _attr_values(self, node: ast.Attribute, scope: _Scope, d: int, seen: frozenset) -> _Vals:
        base = node.value
        if isinstance(base, ast.Name) and base.id in {"self", "cls"} and scope.cls in self.classes:
            for method in self._methods.get(scope.cls, ()):  # ``self.x = …`` may sit in any method
                self._ensure(method)
            cls = self.classes[scope.cls]
            if node.attr in cls.assigns:
                out = _Vals()
                for b in cls.assigns[node.attr]:
                    out.extend(self._binding_values(b, cls.parent or self.module, d, seen))
                return out
        if (
            isinstance(base, ast.Name)
            and base.id in self.classes
            and node.attr in self.classes[base.id].assigns
        ):
            cls = self.classes[base.id]
            out = _Vals()
            for b in cls.assigns[node.attr]:
                out.extend(self._binding_values(b, cls, d, seen))
            return out
        if node.attr in self.attr_defaults and not (
            isinstance(base, ast.Name) and base.id in {"self", "cls"}
        ):
            out = _Vals()
            for default, note in self.attr_defaults[node.attr]:
                vals = self._binding_values(default, self.module, d, seen)
                out.values.extend((v, note) for v, _ in vals.values)
                out.missing.extend(vals.missing)
            return out
        return _Vals(missing=[_unparse(node)])

    def _subscript_values(self, node: ast.Subscript, scope: _Scope, d: int, seen: frozenset) -> _Vals:
        container = self._literal(node.value, scope)
        key = self.values(node.slice, scope, d, seen) if not isinstance(node.slice, ast.Constant) else None
        index = node.slice.value if isinstance(node.slice, ast.Constant) else None
        if isinstance(container, ast.Dict):
            out = _Vals()
            wanted = {index} if index is not None else {v for v, _ in (key.values if key else [])}
            for k, v in zip(container.keys, container.values, strict=True):
                if isinstance(k, ast.Constant) and k.value in wanted:
                    out.extend(self.values(v, scope, d, seen))
            if not wanted or (key and key.missing):  # unknown key: any value of the dict
                for v in container.values:
                    out.extend(self.values(v, scope, d, seen))
                if not out.values:
                    out.missing.append(_unparse(node))
            return out
        if (
            isinstance(container, ast.List | ast.Tuple)
            and isinstance(index, int)
            and -len(container.elts) <= index < len(container.elts)
        ):
            return self.values(container.elts[index], scope, d, seen)
        return _Vals(missing=[_unparse(node)])

    def _literal(self, node: ast.AST, scope: _Scope) -> ast.AST | None:
        """The dict/list/tuple literal a name is bound to, when it is bound exactly once."""
        if isinstance(node, ast.Dict | ast.List | ast.Tuple):
            return node
        if isinstance(node, ast.Name):
            _, bindings = self._lookup(node.id, scope)
            if bindings and len(bindings) == 1 and isinstance(bindings[0], ast.Dict | ast.List | ast.Tuple):
                return bindings[0]  # type: ignore[return-value]
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"values", "keys"}
        ):
            return None
        return None

    def _sequence(self, node: ast.AST, scope: _Scope, d: int, seen: frozenset) -> list[ast.expr] | None:
        lit = self._literal(node, scope)
        if isinstance(lit, ast.List | ast.Tuple):
            return list(lit.elts)
        if isinstance(lit, ast.Dict):
            return [k for k in lit.keys if k is not None]
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"values", "keys"}
        ):
            lit = self._literal(node.func.value, scope)
            if isinstance(lit, ast.Dict):
                return (
                    list(lit.values) if node.func.attr == "values" else [k for k in lit.keys if k is not None]
                )
        return None


def _field_default(value: ast.expr) -> ast.expr:
    """``field(default="x")`` / ``Field("x")`` in a dataclass or pydantic model → ``"x"``."""
    if isinstance(value, ast.Call) and _unparse(value.func).split(".")[-1] in {"field", "Field"}:
        for k in value.keywords:
            if k.arg == "default":
                return k.value
        if value.args:
            return value.args[0]
    return value


def _product(parts: list[_Vals], node: ast.AST) -> _Vals:
    out = _Vals()
    for p in parts:
        out.missing.extend(p.missing)
    if any(not p.values for p in parts):
        if not out.missing:
            out.missing.append(_unparse(node))
        return out
    for combo in itertools.islice(itertools.product(*(p.values for p in parts)), _MAX_VALUES):
        out.values.append(("".join(v for v, _ in combo), "; ".join(n for _, n in combo if n)))
    return out


def _apply(head: _Vals, args: list[_Vals], fn, node: ast.AST) -> _Vals:
    out = _Vals()
    out.missing.extend(head.missing)
    for a in args:
        out.missing.extend(a.missing)
    if not head.values or any(not a.values for a in args):
        if not out.missing:
            out.missing.append(_unparse(node))
        return out
    for h in head.values:
        for combo in itertools.islice(itertools.product(*(a.values for a in args)), _MAX_VALUES):
            try:
                value = fn(h[0], [v for v, _ in combo])
            except (TypeError, ValueError, KeyError, IndexError):
                out.missing.append(_unparse(node))
                continue
            out.values.append((value, "; ".join(n for _, n in (h, *combo) if n)))
    return out


def _arg(call: ast.Call, spec: CallSpec) -> ast.expr | None:
    for k in call.keywords:
        if k.arg in spec.kws:
            return k.value
    if (
        spec.pos is not None
        and spec.pos < len(call.args)
        and not isinstance(call.args[spec.pos], ast.Starred)
    ):
        return call.args[spec.pos]
    return None


def _kind_for(call: ast.Call, spec: CallSpec, scanner: ModuleScanner, scope: _Scope) -> Kind | None:
    if not spec.repo_type_kw:
        return spec.kind
    rt = next((k.value for k in call.keywords if k.arg == "repo_type"), None)
    if rt is None:
        return spec.kind
    vals = scanner.values(rt, scope).values
    types = {v for v, _ in vals}
    if types == {"space"}:
        return None
    return "dataset" if types == {"dataset"} else spec.kind


def _char_column(lines: list[str], lineno: int, byte_offset: int) -> int:
    """1-based column in characters: ``ast`` counts UTF-8 bytes, so ``größe = from_pretrained(…)``
    was reported two columns to the right of the call (SARIF viewers and editors count characters)."""
    line = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
    if line.isascii():
        return byte_offset + 1
    return len(line.encode("utf-8")[:byte_offset].decode("utf-8", "replace")) + 1


def scan_python_source(
    source: str, file: str, file_dir: Path, root: Path, tree: ast.Module | None = None
) -> list[Reference]:
    """References in one module's source. Raises ``SyntaxError`` when the source does not parse."""
    if tree is None:
        if not mentions_loader(source):
            return []
        tree = ast.parse(source, filename=file)
    scanner = ModuleScanner(tree, source)
    refs: list[Reference] = []
    lines: list[str] | None = None
    for call, scope, name, spec in scanner.candidates:
        kind = _kind_for(call, spec, scanner, scope)
        if kind is None:
            continue
        callee = _unparse(call.func, 80)
        if lines is None:
            lines = re.split(r"\r\n|\r|\n", source)
        column = _char_column(lines, call.lineno, call.col_offset)
        where = {"file": file, "line": call.lineno, "column": column, "call": callee}
        node = _arg(call, spec)
        if node is None:
            if name == "pipeline":
                task = _unparse(call.args[0]) if call.args else "?"
                refs.append(
                    Reference(
                        None, kind, resolved=False, expression=_unparse(call),
                        note=f"pipeline({task}) without model=: the library picks its default model for the task",
                        **where,
                    )
                )  # fmt: skip
            elif not any(isinstance(a, ast.Starred) for a in call.args) and not any(
                k.arg is None for k in call.keywords
            ):
                continue  # e.g. ``x.from_pretrained()`` with no repo at all: nothing is pulled in
            else:
                refs.append(Reference(None, kind, resolved=False, expression=_unparse(call), **where))
            continue
        vals = scanner.values(node, scope)
        expr = "" if isinstance(node, ast.Constant) else _unparse(node)
        seen: set[str] = set()
        for value, note in vals.values:
            if value in seen:
                continue
            seen.add(value)
            if kind == "dataset" and value.lower() in PACKAGED_BUILDERS:
                continue
            if spec.require_prefix and not value.startswith(("hf-hub:", "hf_hub:")):
                continue
            if spec.require_prefix:
                value = "hf-hub:" + value.split(":", 1)[1]
            if (
                spec.st_prefix
                and "/" not in value
                and not value.startswith(".")
                and not Path(value).is_absolute()
            ):
                value = f"sentence-transformers/{value}"
            ref = make_reference(
                value, kind, file_dir=file_dir, root=root, allow_single=spec.allow_single,
                expression=expr, note=note, **where,
            )  # fmt: skip
            if ref is not None:
                refs.append(ref)
        if vals.missing and not spec.require_prefix:
            unknown = "; ".join(dict.fromkeys(vals.missing))
            refs.append(
                Reference(
                    None,
                    kind,
                    resolved=False,
                    expression=_unparse(node),
                    note=f"not static: {unknown}",
                    **where,
                )
            )
    refs.sort(key=lambda r: (r.line, r.column, r.model or ""))
    return refs
