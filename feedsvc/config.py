"""Load and validate config.toml into frozen Settings.

Every setting is declared once in SETTINGS (name, default, help): that table
drives validation, the README's reference and a test that fails when a
setting is undocumented. A mistake in the file is a ConfigError naming the
file and the key, never a traceback.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from feedsvc.errors import ConfigError
from feedsvc.patterns import LinePattern, compile_linear

DEFAULT_CONFIG = "config.toml"
ENV_CONFIG = "FEEDSVC_CONFIG"

_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
_FEED_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def parse_interval(value: object) -> float:
    """'90s', '15m', '2h', '1d' or a number of seconds -> seconds (> 0)."""
    if isinstance(value, bool):
        raise ValueError("an interval is a number of seconds or a string like '90s', '15m', '2h'")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (m := _INTERVAL.match(value)):
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    else:
        raise ValueError(f"{value!r} is not an interval like '90s', '15m', '2h' or seconds")
    if seconds <= 0:
        raise ValueError(f"{value!r} must be more than zero")
    return seconds


@dataclass(frozen=True)
class Setting:
    section: str  # "service", "scheduler", "fetch" or "feeds"
    name: str
    default: Any
    help: str
    convert: Callable[[Any], Any] = lambda v: v


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r}")
    return value


def _opt_str(value: object) -> str | None:
    return None if value in (None, "") else _str(value)


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _positive_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"expected a whole number of at least 1, got {value!r}")
    return value


def _whole_number(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"expected a whole number (0 or more), got {value!r}")
    return value


def _str_list(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"expected a list of strings, got {value!r}")
    return tuple(value)


def _regex_list(value: object) -> tuple[LinePattern, ...]:
    return tuple(compile_linear(text) for text in _str_list(value))


def _whole(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"expected a whole number, got {value!r}")
    return value


class Secret:
    """A value that must never be printed (a webhook secret, an Apprise URL
    with a password in it): its repr and str hide it; .reveal() gives it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _secret(value: object) -> Secret | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError("expected a string")  # never echo a secret
    return Secret(value)


def _secret_list(value: object) -> tuple[Secret, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("expected a list of strings")  # never echo a secret
    return tuple(Secret(v) for v in value)


# Change classes (revisions.classify); "initial" is an article's first version.
CHANGE_CLASSES = ("initial", "append", "edit", "headline", "correction", "deletion", "revert")


def _class_list(value: object) -> tuple[str, ...]:
    classes = _str_list(value)
    for c in classes:
        if c not in CHANGE_CLASSES:
            raise ValueError(f"{c!r} is not a change class ({', '.join(CHANGE_CLASSES)})")
    return classes


def _interval_ladder(value: object) -> tuple[tuple[float, float | None], ...]:
    """[["6h", "interval"], ["2d", "1h"], ["30d", "1d"]]: until AGE since the
    last change, check every EVERY ("interval": the feed's poll interval);
    past the last rung, stop."""
    if not isinstance(value, list):
        raise ValueError(f"expected a list of [age, every] pairs, got {value!r}")
    rungs: list[tuple[float, float | None]] = []
    for pair in value:
        if not isinstance(pair, list) or len(pair) != 2:
            raise ValueError(f"expected [age, every], got {pair!r}")
        every = None if pair[1] == "interval" else parse_interval(pair[1])
        rungs.append((parse_interval(pair[0]), every))
    if [a for a, _ in rungs] != sorted(a for a, _ in rungs):
        raise ValueError("rungs must be in order of increasing age")
    return tuple(rungs)


def _selector(value: object) -> str | None:
    """A CSS selector lxml can compile (cssselect), or None for empty."""
    text = _opt_str(value)
    if text is None:
        return None
    from lxml.cssselect import CSSSelector

    try:
        CSSSelector(text)
    except Exception as exc:  # cssselect's SelectorSyntaxError, ExpressionError
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"{text!r} is not a CSS selector: {first}") from None
    return text


def _selector_list(value: object) -> tuple[str, ...]:
    selectors = tuple(_selector(v) for v in _str_list(value))
    if any(s is None for s in selectors):
        raise ValueError("an empty string is not a CSS selector")
    return tuple(s for s in selectors if s is not None)


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "service",
        "base_url",
        "http://127.0.0.1:8080",
        "Public address of the service, used in every link (not in entry ids).",
        _str,
    ),
    Setting("service", "listen", "127.0.0.1:8080", "HOST:PORT the web server binds.", _str),
    Setting(
        "service",
        "database",
        "sqlite:///feedsvc.db",
        "sqlite:///PATH (relative to this file) or postgresql://USER@HOST/DB.",
        _str,
    ),
    Setting(
        "service",
        "entries_per_page",
        50,
        "Entries in a feed document; older ones are on rel=next pages (RFC 5005).",
        _positive_int,
    ),
    Setting(
        "service",
        "cache_max_age",
        300,
        "Seconds in Cache-Control: public, max-age= on feeds and pages.",
        _positive_int,
    ),
    Setting("service", "hub", None, "WebSub hub URL to advertise and ping, or empty.", _opt_str),
    Setting("service", "threads", 8, "Web server threads.", _positive_int),
    Setting("scheduler", "interval", 900.0, "How often a source is polled.", parse_interval),
    Setting(
        "scheduler",
        "developing_interval",
        120.0,
        "How often an article page carrying a developing marker is checked at first "
        "(never less often than its feed is polled, whatever this says).",
        parse_interval,
    ),
    Setting(
        "scheduler",
        "developing_window",
        172800.0,
        "A developing article's page returns to the recheck ladder alone this long after "
        "its last change.",
        parse_interval,
    ),
    Setting(
        "scheduler",
        "developing_markers",
        (),
        "Extra phrases that mark a developing story, beside the built-in list.",
        _str_list,
    ),
    Setting(
        "scheduler",
        "recheck",
        ((21600.0, None), (172800.0, 3600.0), (604800.0, 21600.0), (2592000.0, 86400.0)),
        "Ladder every article page is checked on, in its feed or not: [[age, every], ...]: "
        'until AGE since its last change, every EVERY ("interval": the feed\'s interval); '
        "past the last rung, no more checks (a page source stays on the last rung).",
        _interval_ladder,
    ),
    Setting(
        "scheduler", "tick", 5.0, "How often the scheduler looks for due sources.", parse_interval
    ),
    Setting("scheduler", "concurrency", 4, "Sources polled at once by one process.", _positive_int),
    Setting("scheduler", "per_host", 2, "Requests at once to one upstream host.", _positive_int),
    Setting(
        "scheduler",
        "lease",
        300.0,
        "How long a worker owns a claimed source; a crashed worker's claim expires then.",
        parse_interval,
    ),
    Setting(
        "scheduler", "max_backoff", 86400.0, "Longest wait after repeated errors.", parse_interval
    ),
    Setting(
        "scheduler",
        "max_new_articles",
        200,
        "New articles taken from one poll of one source; the rest wait for the next.",
        _positive_int,
    ),
    Setting(
        "fetch",
        "timeout",
        30.0,
        "Longest wait for an upstream's next bytes, and for its whole answer.",
        parse_interval,
    ),
    Setting(
        "fetch",
        "connect_timeout",
        10.0,
        "Longest wait for a connection to an upstream (capped by timeout).",
        parse_interval,
    ),
    Setting(
        "fetch",
        "max_bytes",
        10_000_000,
        "Largest body accepted, after decompression.",
        _positive_int,
    ),
    Setting(
        "fetch",
        "user_agent",
        None,
        "User-Agent header; default names feedsvc, its version and base_url.",
        _opt_str,
    ),
    Setting(
        "fetch",
        "min_words",
        20,
        "An article page extracting to fewer words, or to less than half its last "
        "version, is fetched again to confirm; if it stays so it is stored as suspect.",
        _positive_int,
    ),
    Setting(
        "fetch",
        "parse_workers",
        2,
        "Child processes that parse feeds and extract pages, apart from the service "
        "(0: in the service's own process).",
        _whole_number,
    ),
    Setting(
        "fetch",
        "parse_timeout",
        60.0,
        "Longest a child may spend on one document; past it the child is killed and "
        "the document is its source's error.",
        parse_interval,
    ),
    Setting(
        "fetch",
        "parse_memory",
        1024,
        "Megabytes a parsing child may grow by for one document; past it the document "
        "is its source's error.",
        _positive_int,
    ),
    Setting(
        "delivery",
        "first_retry",
        5.0,
        "Wait before retrying a failed notification; doubled after each failure.",
        parse_interval,
    ),
    Setting("delivery", "max_retry", 3600.0, "Longest wait between two tries.", parse_interval),
    Setting(
        "delivery",
        "give_up_after",
        86400.0,
        "A notification still failing this long after its version was seen is given up "
        "(kept, with its last error, in `feedsvc notify status`).",
        parse_interval,
    ),
    Setting("delivery", "timeout", 10.0, "Longest wait for one send to a target.", parse_interval),
    Setting("feeds", "name", None, "Feed name, served at /feeds/NAME.atom.", _str),
    Setting("feeds", "title", None, "Feed title; default the name.", _opt_str),
    Setting(
        "feeds",
        "sources",
        None,
        "Feed URLs, article page URLs or local paths (a file or a folder of files).",
        _str_list,
    ),
    Setting(
        "feeds",
        "fetch_articles",
        False,
        "Fetch each entry's link and version the article page, not the feed's summary.",
        _bool,
    ),
    Setting(
        "feeds",
        "ignore",
        (),
        "Regexes (RE2 syntax, linear time); lines matching one are not changes.",
        _regex_list,
    ),
    Setting(
        "feeds",
        "extract_include",
        None,
        "CSS selector for the article on this feed's pages: only what it selects is "
        "extracted (the whole page when it selects nothing). Try it with `feedsvc extract`.",
        _selector,
    ),
    Setting(
        "feeds",
        "extract_exclude",
        (),
        "CSS selectors for parts of this feed's pages that are never the article "
        "(removed before extraction).",
        _selector_list,
    ),
    Setting(
        "feeds",
        "interval",
        None,
        "This feed's poll interval; default [scheduler] interval.",
        parse_interval,
    ),
    Setting(
        "feeds",
        "stealth_words",
        5,
        "A revision changing more words than this outside appended text, with no "
        "correction or update notice, is a stealth edit (as is a changed headline, "
        "number or quote).",
        _positive_int,
    ),
)

SETTINGS += (
    Setting("notify", "name", None, "Target name (`feedsvc notify test NAME`).", _str),
    Setting(
        "notify", "feeds", (), "Feeds whose revisions are told; default every feed.", _str_list
    ),
    Setting(
        "notify",
        "urls",
        (),
        "Apprise URLs (mailto://, slack://, ntfy://, json://, ...); or use webhook.",
        _secret_list,
    ),
    Setting("notify", "webhook", None, "http(s) URL to POST a signed JSON event to.", _secret),
    Setting(
        "notify",
        "secret",
        None,
        "The webhook's signing secret, `whsec_` and base64 of 24 to 64 random bytes.",
        _secret,
    ),
    Setting(
        "notify",
        "classes",
        CHANGE_CLASSES[1:],
        "Change classes worth telling.",
        _class_list,
    ),
    Setting(
        "notify",
        "min_words_changed",
        0,
        "Tell only when at least this many words were added plus removed (a headline "
        "change always counts).",
        _whole,
    ),
    Setting("notify", "headline_only", False, "Tell only when the headline changed.", _bool),
    Setting(
        "notify",
        "include_first_version",
        False,
        "Tell about new articles too (class `initial`).",
        _bool,
    ),
    Setting(
        "notify",
        "title_template",
        None,
        "Jinja template of the message title (inline); default the built-in one.",
        _opt_str,
    ),
    Setting(
        "notify",
        "text_template",
        None,
        "Jinja template file for text channels (relative to this file).",
        _opt_str,
    ),
    Setting(
        "notify",
        "html_template",
        None,
        "Jinja template file for HTML channels (e-mail, ...).",
        _opt_str,
    ),
)

_BY_SECTION: dict[str, dict[str, Setting]] = {}
for _s in SETTINGS:
    _BY_SECTION.setdefault(_s.section, {})[_s.name] = _s


@dataclass(frozen=True)
class ServiceSettings:
    base_url: str
    listen: str
    database: str
    entries_per_page: int
    cache_max_age: int
    hub: str | None
    threads: int

    @property
    def host_port(self) -> tuple[str, int]:
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]") or "127.0.0.1", int(port)


@dataclass(frozen=True)
class SchedulerSettings:
    interval: float
    developing_interval: float
    developing_window: float
    developing_markers: tuple[str, ...]
    recheck: tuple[tuple[float, float | None], ...]
    tick: float
    concurrency: int
    per_host: int
    lease: float
    max_backoff: float
    max_new_articles: int


@dataclass(frozen=True)
class FetchSettings:
    timeout: float
    connect_timeout: float
    max_bytes: int
    user_agent: str | None
    min_words: int = 20
    parse_workers: int = 2
    parse_timeout: float = 60.0
    parse_memory: int = 1024  # MB


@dataclass(frozen=True)
class FeedSettings:
    name: str
    title: str
    sources: tuple[str, ...]  # URLs, or absolute local paths
    fetch_articles: bool = False
    ignore: tuple[LinePattern, ...] = ()
    interval: float | None = None
    extract_include: str | None = None
    extract_exclude: tuple[str, ...] = ()
    stealth_words: int = 5


@dataclass(frozen=True)
class DeliverySettings:
    first_retry: float = 5.0
    max_retry: float = 3600.0
    give_up_after: float = 86400.0
    timeout: float = 10.0


@dataclass(frozen=True)
class NotifySettings:
    """One [[notify]] target: Apprise URLs or a webhook, and its rules."""

    name: str
    feeds: tuple[str, ...] = ()  # empty: every feed
    urls: tuple[Secret, ...] = ()
    webhook: Secret | None = None
    secret: Secret | None = None
    classes: tuple[str, ...] = CHANGE_CLASSES[1:]
    min_words_changed: int = 0
    headline_only: bool = False
    include_first_version: bool = False
    title_template: str | None = None
    text_template: str | None = None  # absolute path
    html_template: str | None = None  # absolute path

    def covers(self, feed: str) -> bool:
        return not self.feeds or feed in self.feeds


@dataclass(frozen=True)
class Settings:
    service: ServiceSettings
    scheduler: SchedulerSettings
    fetch: FetchSettings
    feeds: tuple[FeedSettings, ...]
    path: Path | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    notify: tuple[NotifySettings, ...] = ()
    delivery: DeliverySettings = DeliverySettings()

    def target(self, name: str) -> NotifySettings:
        for target in self.notify:
            if target.name == name:
                return target
        raise KeyError(name)

    def feed(self, name: str) -> FeedSettings:
        for feed in self.feeds:
            if feed.name == name:
                return feed
        raise KeyError(name)

    @property
    def base_dir(self) -> Path | None:
        """The config file's folder: relative paths are relative to it."""
        return self.path.resolve().parent if self.path else None

    def feed_interval(self, feed: FeedSettings) -> float:
        return feed.interval or self.scheduler.interval

    @property
    def user_agent(self) -> str:
        from feedsvc import __version__

        return self.fetch.user_agent or (f"feedsvc/{__version__} (+{self.service.base_url})")


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    return Path(explicit or os.environ.get(ENV_CONFIG) or DEFAULT_CONFIG)


def load(path: str | os.PathLike[str] | None = None) -> Settings:
    """Read and validate a config file; raise ConfigError with one clear line."""
    file = config_path(path)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{file}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    return from_mapping(raw, file)


def from_mapping(raw: Mapping[str, Any], file: Path | None = None) -> Settings:
    where = str(file) if file else "config"
    base_dir = file.resolve().parent if file else Path.cwd()

    def fail(key: str, message: str) -> ConfigError:
        return ConfigError(f"{where}: {key}: {message}")

    unknown = set(raw) - {"service", "scheduler", "fetch", "feeds", "delivery", "notify"}
    if unknown:
        raise fail(sorted(unknown)[0], "unknown section or key")

    def section(name: str, table: object, prefix: str) -> dict[str, Any]:
        if not isinstance(table, dict):
            raise fail(prefix, "expected a table")
        known = _BY_SECTION[name]
        for key in table:
            if key not in known:
                raise fail(f"{prefix}.{key}", "unknown key")
        values = {}
        for key, setting in known.items():
            if key in table:
                try:
                    values[key] = setting.convert(table[key])
                except ValueError as exc:
                    raise fail(f"{prefix}.{key}", str(exc)) from None
            elif setting.default is None and (name, key) in _REQUIRED:
                raise fail(f"{prefix}.{key}", "required")
            else:
                values[key] = setting.default
        return values

    service = section("service", raw.get("service", {}), "service")
    scheduler = section("scheduler", raw.get("scheduler", {}), "scheduler")
    fetch = section("fetch", raw.get("fetch", {}), "fetch")
    delivery = section("delivery", raw.get("delivery", {}), "delivery")

    service["base_url"] = _check_base_url(service["base_url"], fail)
    _check_listen(service["listen"], fail)
    service["database"] = database_url(service["database"], base_dir, fail)

    feeds_raw = raw.get("feeds", [])
    if not isinstance(feeds_raw, list):
        raise fail("feeds", "expected [[feeds]] tables")
    feeds = []
    seen: set[str] = set()
    for i, table in enumerate(feeds_raw):
        values = section("feeds", table, f"feeds[{i}]")
        name = values["name"]
        if not _FEED_NAME.match(name):
            raise fail(f"feeds[{i}].name", f"{name!r} must be letters, digits, '.', '_' or '-'")
        if name in seen:
            raise fail(f"feeds[{i}].name", f"duplicate feed name {name!r}")
        seen.add(name)
        if not values["sources"]:
            raise fail(f"feeds[{i}].sources", "at least one source is needed")
        key = f"feeds[{i}].sources"
        values["sources"] = tuple(
            _check_source(s, base_dir, service, key, fail) for s in values["sources"]
        )
        values["title"] = values["title"] or name
        feeds.append(FeedSettings(**values))

    notify_raw = raw.get("notify", [])
    if not isinstance(notify_raw, list):
        raise fail("notify", "expected [[notify]] tables")
    targets: list[NotifySettings] = []
    for i, table in enumerate(notify_raw):
        values = section("notify", table, f"notify[{i}]")
        if not _FEED_NAME.match(values["name"]):
            raise fail(
                f"notify[{i}].name", f"{values['name']!r} must be letters, digits, '.', '_' or '-'"
            )
        if values["name"] in {t.name for t in targets}:
            raise fail(f"notify[{i}].name", f"duplicate target name {values['name']!r}")
        for feed in values["feeds"]:
            if feed not in seen:
                raise fail(f"notify[{i}].feeds", f"no feed named {feed!r}")
        from feedsvc.notify.targets import check_target

        targets.append(check_target(values, base_dir, f"notify[{i}]", fail))

    return Settings(
        service=ServiceSettings(**service),
        scheduler=SchedulerSettings(**scheduler),
        fetch=FetchSettings(**fetch),
        feeds=tuple(feeds),
        path=file,
        notify=tuple(targets),
        delivery=DeliverySettings(**delivery),
    )


_REQUIRED = {("feeds", "name"), ("feeds", "sources"), ("notify", "name")}


def _check_base_url(value: str, fail: Callable[[str, str], ConfigError]) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise fail("service.base_url", f"{value!r} is not an http(s) URL")
    return value.rstrip("/")


def _check_listen(value: str, fail: Callable[[str, str], ConfigError]) -> None:
    _, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise fail("service.listen", f"{value!r} is not HOST:PORT")


def database_url(value: str, base_dir: Path, fail: Callable[[str, str], ConfigError]) -> str:
    """Validate a database URL; make SQLite paths relative to the config file
    and use psycopg 3 for postgresql://."""
    try:
        url = make_url(value)
    except ArgumentError:
        raise fail("service.database", f"{value!r} is not a database URL") from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        if url.database and url.database != ":memory:" and not os.path.isabs(url.database):
            url = url.set(database=str(base_dir / url.database))
    elif backend == "postgresql":
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
    else:
        raise fail(
            "service.database", f"{value!r}: only sqlite:/// and postgresql:// are supported"
        )
    return url.render_as_string(hide_password=False)


_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", "::", ""})


def _host_port(parts: SplitResult) -> tuple[str, int | None]:
    try:
        port = parts.port
    except ValueError:
        port = None
    host = (parts.hostname or "").lower().rstrip(".")
    return host, port or {"http": 80, "https": 443}.get(parts.scheme)


def _is_own(parts: SplitResult, service: Mapping[str, Any]) -> str | None:
    """Does this source URL point back at this service? Polling yourself
    feeds your own output back in as news, and a worker that polls its web
    node loops. Returns what it points at, or None."""
    host, port = _host_port(parts)
    own = urlsplit(service["base_url"])
    if (host, port) == _host_port(own) and parts.path.startswith(own.path or "/"):
        return "this service's own base_url"
    listen_host, _, listen_port = service["listen"].rpartition(":")
    listen_host = listen_host.strip("[]").lower()
    if listen_port.isdigit() and int(listen_port) and port == int(listen_port):
        loopback = listen_host in _LOOPBACK or listen_host.startswith("127.")
        if host == listen_host or (loopback and (host in _LOOPBACK or host.startswith("127."))):
            return f"the address this service listens on ({service['listen']})"
    return None


def _check_source(
    value: str,
    base_dir: Path,
    service: Mapping[str, Any],
    key: str,
    fail: Callable[[str, str], ConfigError],
) -> str:
    parts = urlsplit(value)
    if parts.scheme in ("http", "https"):
        if not parts.netloc or not parts.hostname:
            raise fail(key, f"{value!r} is not a valid URL")
        own = _is_own(parts, service)
        if own:
            raise fail(key, f"{value!r} points at {own}")
        return value
    if len(parts.scheme) > 1:  # "ftp:", "file:", "javascript:"; not "C:"
        raise fail(key, f"{value!r}: only http(s) URLs and local paths are sources")
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    if not path.exists():
        raise fail(key, f"{value!r} is neither an http(s) URL nor an existing path")
    return str(path.resolve())


def reference_markdown() -> str:
    """The README's configuration reference, from SETTINGS."""
    lines = ["| setting | default | what |", "| --- | --- | --- |"]
    for s in SETTINGS:
        if s.section in ("feeds", "notify"):
            key = f"`[[{s.section}]]` `{s.name}`"
        else:
            key = f"`[{s.section}]` `{s.name}`"
        lines.append(f"| {key} | {_show_default(s)} | {s.help} |")
    return "\n".join(lines)


def _show_default(setting: Setting) -> str:
    value = setting.default
    if value is None:
        return "required" if (setting.section, setting.name) in _REQUIRED else "none"
    if setting.convert is parse_interval:
        return f"`{_human_interval(value)}`"
    if setting.name == "recheck":
        rungs = ", ".join(
            f'["{_human_interval(a)}", "{"interval" if e is None else _human_interval(e)}"]'
            for a, e in value
        )
        return f"`[{rungs}]`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple):
        return "`[" + ", ".join(f'"{v}"' for v in value) + "]`"
    if isinstance(value, str):
        return f'`"{value}"`'
    return f"`{value}`"


def _human_interval(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
