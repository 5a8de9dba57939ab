"""Macro bodies: Jinja2 templates limited to a few placeholders, rendered in the sandbox.

A body is checked when it is saved: only `{{ ticket.number }}`, `{{ ticket.subject }}`,
`{{ customer.name }}` and `{{ agent.name }}`, a few text filters and `{% if %}` are allowed,
so no loop or call can run. Rendering happens in Jinja2's SandboxedEnvironment all the same.
"""

from collections.abc import Mapping

from jinja2 import TemplateError, nodes
from jinja2.sandbox import SandboxedEnvironment

PLACEHOLDERS: Mapping[str, frozenset[str]] = {
    "ticket": frozenset({"number", "subject"}),
    "customer": frozenset({"name"}),
    "agent": frozenset({"name"}),
}
FILTERS = frozenset({"upper", "lower", "title", "capitalize", "trim", "default"})
STRUCTURE = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.If,
    nodes.And,
    nodes.Or,
    nodes.Not,
    nodes.Compare,
    nodes.Operand,
    nodes.Const,
)
MAX_RENDERED = 20_000

_env = SandboxedEnvironment(autoescape=False, keep_trailing_newline=True)


class BodyError(ValueError):
    pass


def check(body: str) -> None:
    """BodyError when the body is not valid or uses anything but the allowed placeholders."""
    try:
        tree = _env.parse(body)
    except TemplateError as error:
        raise BodyError(f"template error: {error}") from None
    _check_node(tree)


def _check_node(node: nodes.Node) -> None:
    if isinstance(node, nodes.Getattr):
        target = node.node
        if not (isinstance(target, nodes.Name) and node.attr in PLACEHOLDERS.get(target.name, ())):
            raise BodyError(_ALLOWED)
        return
    if isinstance(node, nodes.Name):
        raise BodyError(_ALLOWED)
    if isinstance(node, nodes.Filter):
        if node.name not in FILTERS or node.dyn_args or node.dyn_kwargs:
            raise BodyError(f"filters allowed: {', '.join(sorted(FILTERS))}")
    elif not isinstance(node, STRUCTURE):
        raise BodyError(f"{type(node).__name__.lower()} is not allowed; {_ALLOWED}")
    for child in node.iter_child_nodes():
        _check_node(child)


_ALLOWED = "placeholders allowed: " + ", ".join(
    f"{{{{ {name}.{attr} }}}}" for name, attrs in PLACEHOLDERS.items() for attr in sorted(attrs)
)


def render(body: str, *, number: str, subject: str, customer: str, agent: str) -> str:
    """The body with its placeholders filled; BodyError if it cannot be rendered safely."""
    context = {
        "ticket": {"number": number, "subject": subject},
        "customer": {"name": customer},
        "agent": {"name": agent},
    }
    try:
        text = _env.from_string(body).render(context)
    except TemplateError as error:  # SecurityError and UndefinedError included
        raise BodyError(f"template error: {error}") from None
    if len(text) > MAX_RENDERED:
        raise BodyError(f"the rendered text has more than {MAX_RENDERED} characters")
    return text
