"""Do notifications add time to a poll? (They must not: a poll only writes
outbox rows in its own transaction; sending happens on other threads.)

Three newsrooms, each a folder of --articles local articles of ~600 words
polled into its own SQLite database, every round appending a sentence to
every article (so each poll stores --articles new versions):

- none:      no [[notify]] targets (the baseline)
- outbox:    three targets that want every version; nothing delivers, so
             the poll pays only for writing 3 outbox rows per version
- delivering: the same three targets with the delivery job running in the
             same process, as in `feedsvc run`: a webhook that never answers
             (timeout 2s), a webhook that answers at once, an Apprise json://
             URL that answers at once

The setups take turns, in a shuffled order each round, so the machine's
noise falls on all three alike. Reported: median and quartiles of the
poll's wall-clock time, and the ratio of medians to the baseline.

    python bench/notify.py [--rounds 15] [--articles 50]
"""

from __future__ import annotations

import argparse
import base64
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from werkzeug import Request, Response
from werkzeug.serving import WSGIRequestHandler, make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from feedsvc import config, notify  # noqa: E402
from feedsvc.notify.delivery import Deliverer, DeliveryLoop  # noqa: E402
from feedsvc.storage import Store  # noqa: E402
from feedsvc.update import Updater  # noqa: E402

SECRET = "whsec_" + base64.b64encode(b"bench-secret-bench-secret-32byte").decode()
WORDS = [
    "the",
    "council",
    "said",
    "on",
    "tuesday",
    "that",
    "the",
    "bridge",
    "would",
    "stay",
    "closed",
    "while",
    "engineers",
    "inspect",
    "cracks",
    "found",
    "in",
    "a",
    "steel",
    "beam",
    "of",
    "the",
    "main",
    "span",
    "and",
    "ferries",
    "run",
    "every",
    "ten",
    "minutes",
]


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class Receiver:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.count = 0
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True, request_handler=_Quiet)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def app(self, environ: dict[str, Any], start_response: Any) -> Any:
        Request(environ).get_data()
        self.count += 1
        if self.delay:
            time.sleep(self.delay)
        return Response("ok")(environ, start_response)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20))).capitalize() + "."


class Newsroom:
    def __init__(self, root: Path, name: str, targets: str, articles: int, deliver: bool) -> None:
        self.folder = root / name
        self.folder.mkdir()
        self.rng = random.Random(name)
        self.texts = {
            f"story{n}": [" ".join(sentence(self.rng) for _ in range(6)) for _ in range(6)]
            for n in range(articles)
        }
        path = root / f"{name}.toml"
        path.write_text(
            f'[service]\ndatabase = "sqlite:///{root}/{name}.db"\n'
            '[delivery]\ntimeout = "2s"\n'
            f'[[feeds]]\nname = "news"\nsources = ["{self.folder}"]\n{targets}'
        )
        self.settings = config.load(path)
        self.store = Store(self.settings.service.database)
        notify.install(self.store, self.settings)
        # What the poll itself pays for notifications: the outbox hook's
        # time inside the version-writing transaction, timed directly.
        self.hook_seconds = 0.0
        self.store.version_hooks[:] = [self._timed(h) for h in self.store.version_hooks]
        self.store.sync_sources(self.settings.feeds, _now())
        self.updater = Updater(self.settings, self.store)
        self.loop: DeliveryLoop | None = None
        if deliver:
            self.loop = DeliveryLoop(Deliverer(self.settings, self.store), tick=0.5)
            self.loop.start()

    def _timed(self, hook: Any) -> Any:
        def timed(*args: Any) -> None:
            # CPU time of this thread: wall-clock time here would also count
            # the waits for the GIL while the poll's other threads extract.
            started = time.thread_time()
            try:
                hook(*args)
            finally:
                self.hook_seconds += time.thread_time() - started

        return timed

    def edit_all(self) -> None:
        for slug, paragraphs in self.texts.items():
            paragraphs[-1] += " " + sentence(self.rng)
            body = "\n\n".join(paragraphs)
            (self.folder / f"{slug}.txt").write_text(f"{slug} title\n\n{body}\n")

    def poll(self) -> float:
        self.hook_seconds = 0.0
        started = time.perf_counter()
        outcomes = self.updater.poll("bench", due_only=False)
        elapsed = time.perf_counter() - started
        assert all(o.error is None for o in outcomes), outcomes
        return elapsed

    def close(self) -> None:
        if self.loop is not None:
            self.loop.stop()
        self.updater.close()
        self.store.close()


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--articles", type=int, default=50)
    args = parser.parse_args()

    hung, quick, apprise_rx = Receiver(delay=30), Receiver(delay=0), Receiver(delay=0)
    port = apprise_rx.server.server_port
    targets = (
        f'[[notify]]\nname = "hung"\nwebhook = "{hung.url}/hook"\nsecret = "{SECRET}"\n'
        f'[[notify]]\nname = "quick"\nwebhook = "{quick.url}/hook"\nsecret = "{SECRET}"\n'
        f'[[notify]]\nname = "apprise"\nurls = ["json://127.0.0.1:{port}/json"]\n'
    )
    times: dict[str, list[float]] = {"none": [], "outbox": [], "delivering": []}
    hooks: dict[str, list[float]] = {"none": [], "outbox": [], "delivering": []}
    with tempfile.TemporaryDirectory() as tmp:
        rooms = {
            "none": Newsroom(Path(tmp), "none", "", args.articles, False),
            "outbox": Newsroom(Path(tmp), "outbox", targets, args.articles, False),
            "delivering": Newsroom(Path(tmp), "delivering", targets, args.articles, True),
        }
        order = list(rooms)
        shuffle = random.Random(1)
        for room in rooms.values():  # the first poll stores the new articles
            room.edit_all()
            room.poll()
        for _ in range(args.rounds):
            shuffle.shuffle(order)
            for name in order:
                rooms[name].edit_all()
                times[name].append(rooms[name].poll())
                hooks[name].append(rooms[name].hook_seconds)
            time.sleep(0.5)  # the delivery job works between polls too
        for room in rooms.values():
            room.close()

    print(f"{args.articles} articles, a new version of each per poll, {args.rounds} rounds")
    print(
        "| setup | poll median ms | quartiles ms | ratio to none, same round: median "
        "(quartiles) | outbox writes in the poll: median CPU ms (share of the poll) |"
    )
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, values in times.items():
        q = statistics.quantiles(values, n=4)
        med = statistics.median(values)
        # Each round's poll against the baseline's poll of the same round:
        # the machine's slow and quiet spells cancel out.
        ratios = [v / b for v, b in zip(values, times["none"], strict=True)]
        r = statistics.quantiles(ratios, n=4)
        hook = statistics.median(hooks[name])
        share = statistics.median(h / t for h, t in zip(hooks[name], values, strict=True))
        print(
            f"| {name} | {med * 1000:.0f} | {q[0] * 1000:.0f} to {q[2] * 1000:.0f} "
            f"| {statistics.median(ratios):.2f} ({r[0]:.2f} to {r[2]:.2f}) "
            f"| {hook * 1000:.1f} ({share:.1%}) |"
        )
    print(f"received: quick {quick.count}, apprise {apprise_rx.count}, hung {hung.count}")


if __name__ == "__main__":
    main()
