"""The fault benchmark: kills, a disk that fills, and flipped bits, against a published
installation; every figure says whether a fault was survived, detected, and what it cost.

On a simulated world (default 2,000 users x 400 films x 30,000 viewings) published twice:

- kills: `nightly --retrain` killed (SIGKILL) at uniformly random moments of its run; after
  each, the published file must be byte-identical and the landed files as landed; after
  the last, a nightly must publish.
- disk fills (root only: the data folder is copied onto a tmpfs): a nightly whose disk is
  filled by another process at a random moment; the run must end in one line naming the
  disk, publish nothing, and the next nightly (space freed) must publish. The same tmpfs
  measures the peak disk use of a nightly against the published warehouse and the landed
  Parquet, the basis of `publishing.space`'s estimate.
- bit flips: one random bit of a landed file, of the published file, or of an older
  retained version flipped (then restored); `movierec validate` must name the file, and
  `nightly` (landed, published) or `rollback` (older version) must refuse it.

Writes benchmarks/results/faults.{json,md}.

    .venv/bin/python -m benchmarks.bench_faults [--kills 20] [--fills 5] [--flips 24]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.measure import RESULTS, data_env, machine
from movierec.files import sha256_of
from movierec.land import landed_files
from movierec.publishing import space_need, version_dirs
from movierec.publishing.space import FIXED_BYTES, HEADROOM
from movierec.settings import ENTITIES, Paths

MB = 2**20
# how a run that met a full disk must end: refused before it started, or stopped
ONE_LINERS = ("disk full, the run stopped: ", "not enough disk space to start: ")


def _paths(data: Path) -> Paths:
    env = data_env(data)
    return Paths(
        project_dir=Path(__file__).resolve().parents[1],
        data_dir=data,
        warehouse_path=Path(env["MOVIEREC_DUCKDB_PATH"]),
    )


def _cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "movierec", *args]
    return subprocess.run(command, env=data_env(data), capture_output=True, text=True, check=False)


def _must(done: subprocess.CompletedProcess[str], what: str) -> None:
    if done.returncode != 0:
        raise SystemExit(f"{what} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def _landed_digests(paths: Paths) -> dict[Path, str]:
    return {f: sha256_of(f) for e in ENTITIES for f in landed_files(paths.raw_dir, e)}


def _world(data: Path, simulate: list[str]) -> float:
    """Land and publish the world twice; the seconds of a retraining nightly."""
    _must(_cli(data, "simulate", *simulate), "simulate")
    _must(_cli(data, "nightly"), "first nightly")
    started = time.perf_counter()
    _must(_cli(data, "nightly", "--retrain"), "second nightly")
    return time.perf_counter() - started


def kills(data: Path, count: int, seconds: float, rng: random.Random) -> dict[str, object]:
    paths = _paths(data)
    landed = _landed_digests(paths)
    survived = lost_bytes = finished_first = 0
    for _ in range(count):
        published = paths.warehouse_path.read_bytes()
        process = subprocess.Popen(
            [sys.executable, "-m", "movierec", "nightly", "--retrain"],
            env=data_env(data),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.02, 0.98) * seconds)
        if process.poll() is not None:
            finished_first += 1  # it published: the next kill starts from the new file
            continue
        process.send_signal(signal.SIGKILL)
        process.wait()
        after = paths.warehouse_path.read_bytes()
        differing = sum(a != b for a, b in zip(published, after, strict=False))
        differing += abs(len(published) - len(after))
        lost_bytes += differing
        survived += differing == 0 and _landed_digests(paths) == landed
    recovered = _cli(data, "nightly")
    return {
        "kills": count - finished_first,
        "finished_before_the_kill": finished_first,
        "published_file_and_landed_files_unchanged": survived,
        "bytes_lost": lost_bytes,
        "next_nightly_published": recovered.returncode == 0,
    }


def _used(folder: Path) -> int:
    usage = shutil.disk_usage(folder)
    return usage.total - usage.free


def _peak_use(data: Path, mount: Path, *args: str) -> tuple[int, int]:
    """Run the CLI, polling the filesystem; (peak bytes used above the start, exit code)."""
    start = peak = _used(mount)
    process = subprocess.Popen(
        [sys.executable, "-m", "movierec", *args],
        env=data_env(data),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while process.poll() is None:
        peak = max(peak, _used(mount))
        time.sleep(0.05)
    return peak - start, process.returncode


def _fill_after(mount: Path, delay: float) -> None:
    time.sleep(delay)
    with (mount / "filler").open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * MB)
                handle.flush()
        except OSError:
            pass


def disk_use(mount: Path, name: str, simulate: list[str]) -> tuple[dict[str, object], Path]:
    """Land a world on the tmpfs; the peak disk use of its cold nightly and of a retraining
    nightly beside the published file, with `publishing.space`'s estimates. Returns the
    figures and the world's (published) data folder."""
    data = mount / name.replace(" ", "-")
    _must(_cli(data, "simulate", *simulate), f"simulate {name}")
    landed = sum(f.stat().st_size for f in (data / "raw").rglob("*.parquet"))
    cold, code = _peak_use(data, mount, "nightly")
    assert code == 0, f"cold nightly of {name} on the tmpfs failed"
    published = _paths(data).warehouse_path.stat().st_size
    warm, code = _peak_use(data, mount, "nightly", "--retrain")
    assert code == 0, f"retraining nightly of {name} on the tmpfs failed"
    figures = {
        "world": name,
        "landed_parquet_mb": round(landed / MB, 1),
        "published_warehouse_mb": round(published / MB, 1),
        "published_per_landed_byte": round(published / landed, 1),
        "cold_nightly_peak_mb": round(cold / MB, 1),
        "cold_estimate_mb": round(space_need(data, data / "none", landed).needed / MB, 1),
        "retraining_nightly_peak_mb": round(warm / MB, 1),
        "retraining_peak_per_published_byte": round(warm / published, 2),
        "retraining_estimate_mb": round((HEADROOM * published + FIXED_BYTES) / MB, 1),
    }
    return figures, data


def disk(
    world: list[str], count: int, seconds: float, rng: random.Random, scratch: Path
) -> dict[str, object] | None:
    """Disk use at the seed's scale and the benchmark's, then disk fills, on a tmpfs (None
    where mounting one is not allowed)."""
    mount = scratch / "tmpfs"
    mount.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1500m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        return None
    try:
        seed, seed_data = disk_use(mount, "seed world", [])
        shutil.rmtree(seed_data)
        bench, data = disk_use(mount, "benchmark world", world)
        # the fills: the tmpfs shrunk to what the installation holds + room for about 2 runs
        paths = _paths(data)
        size_mb = (_used(mount) + 2 * paths.warehouse_path.stat().st_size) // MB + 150
        subprocess.run(["mount", "-o", f"remount,size={size_mb}m", str(mount)], check=True)
        one_line = unchanged = recovered = 0
        first_lines: list[str] = []
        for _ in range(count):
            before = sha256_of(paths.warehouse_path)
            filler = threading.Thread(
                target=_fill_after, args=(mount, rng.uniform(0.02, 0.9) * seconds)
            )
            filler.start()
            failed = _cli(data, "nightly", "--retrain")
            filler.join()
            lines = failed.stderr.strip().splitlines()
            if failed.returncode != 0:
                one_line += len(lines) == 2 and lines[0].startswith(ONE_LINERS)
                first_lines.append(lines[0] if lines else "")
            unchanged += sha256_of(paths.warehouse_path) == before
            (mount / "filler").unlink()
            recovered += _cli(data, "nightly").returncode == 0
        return {
            "disk_use": [seed, bench],
            "tmpfs_mb": size_mb,
            "fills": count,
            "failed_runs": len(first_lines),
            "ended_in_one_line": one_line,
            "published_unchanged": unchanged,
            "next_nightly_published": recovered,
            "messages": first_lines,
        }
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _flip(path: Path, rng: random.Random) -> None:
    with path.open("r+b") as handle:
        at = rng.randrange(path.stat().st_size)
        handle.seek(at)
        byte = handle.read(1)
        handle.seek(at)
        handle.write(bytes([byte[0] ^ (1 << rng.randrange(8))]))


def flips(data: Path, count: int, rng: random.Random) -> list[dict[str, object]]:
    paths = _paths(data)
    rows = []
    for i in range(count):
        kind = ("landed file", "published file", "older version")[i % 3]
        versions = version_dirs(paths)
        if kind == "landed file":
            target = rng.choice(list(_landed_digests(paths)))
            guard: tuple[str, ...] = ("nightly",)
        elif kind == "published file":
            target = versions[-1] / paths.warehouse_path.name
            guard = ("nightly",)
        else:
            target = versions[0] / paths.warehouse_path.name
            guard = ("rollback",)
        original = target.read_bytes()
        published = sha256_of(paths.warehouse_path) if kind != "published file" else None
        _flip(target, rng)
        validated = _cli(data, "validate")
        refused = _cli(data, *guard)
        named = str(target) in " ".join((validated.stderr + refused.stderr).split())
        kept = published is None or sha256_of(paths.warehouse_path) == published
        target.write_bytes(original)  # in place: the published file stays its version's
        rows.append(
            {
                "target": kind,
                "validate_detected": validated.returncode != 0,
                f"{guard[0]}_refused": refused.returncode != 0,
                "file_named": named,
                "published_unchanged": kept,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--fills", type=int, default=5)
    parser.add_argument("--flips", type=int, default=24)
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--movies", type=int, default=400)
    parser.add_argument("--interactions", type=int, default=30_000)
    args = parser.parse_args()
    rng = random.Random(20261202)
    simulate = [
        "--users", str(args.users), "--movies", str(args.movies),
        "--interactions", str(args.interactions), "--seed", "5",
    ]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="movierec-faults-") as tmp:
        data = Path(tmp) / "data"
        seconds = _world(data, simulate)
        flipped = flips(data, args.flips, rng)
        filled = disk(simulate, args.fills, seconds, rng, Path(tmp))
        killed = kills(data, args.kills, seconds, rng)
    world = f"{args.users:,} users x {args.movies:,} films x {args.interactions:,} viewings"
    result = {
        "machine": f"{datetime.now(UTC):%Y-%m-%d}, {machine()}",
        "world": world,
        "retraining_nightly_seconds": round(seconds, 1),
        "kills": killed,
        "disk": filled,
        "flips": flipped,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "faults.json").write_text(json.dumps(result, indent=1))
    (RESULTS / "faults.md").write_text(report(result))
    print(report(result))


def report(result: dict[str, object]) -> str:
    killed = result["kills"]
    filled = result["disk"]
    flipped = result["flips"]
    assert isinstance(killed, dict)
    assert isinstance(flipped, list)
    lines = [
        f"Fault benchmark, {result['machine']}",
        f"World: {result['world']}; a retraining nightly took "
        f"{result['retraining_nightly_seconds']} s.",
        "",
        "| fault | runs | survived | bytes lost | detected / refused | next nightly |",
        "|---|---:|---:|---:|---|---|",
        f"| SIGKILL during `nightly --retrain` | {killed['kills']} | "
        f"{killed['published_file_and_landed_files_unchanged']} | {killed['bytes_lost']} | "
        f"- | {'published' if killed['next_nightly_published'] else 'FAILED'} |",
    ]
    if isinstance(filled, dict):
        lines.append(
            f"| disk filled during `nightly --retrain` | {filled['fills']} | "
            f"{filled['published_unchanged']} | 0 | {filled['ended_in_one_line']} of "
            f"{filled['failed_runs']} failed runs ended in one line (refused or stopped) | "
            f"{filled['next_nightly_published']} of {filled['fills']} published |"
        )
    else:
        lines.append("| disk filled | not run: mounting a tmpfs needs root | | | | |")
    for kind in ("landed file", "published file", "older version"):
        rows = [r for r in flipped if r["target"] == kind]
        guard = "rollback" if kind == "older version" else "nightly"
        detected = sum(bool(r["validate_detected"]) for r in rows)
        refused = sum(bool(r[f"{guard}_refused"]) for r in rows)
        named = sum(bool(r["file_named"]) for r in rows)
        kept = sum(bool(r["published_unchanged"]) for r in rows)
        lines.append(
            f"| one bit flipped in a {kind} | {len(rows)} | {kept} | 0 | validate {detected}, "
            f"{guard} refused {refused}, file named {named} | - |"
        )
    if isinstance(filled, dict):
        lines += [
            "",
            "Disk use of a nightly on the tmpfs, against `publishing.space`'s estimate "
            "(MB above the filesystem's use at the start):",
            "",
            "| world | landed Parquet | published warehouse | cold nightly peak | "
            "estimate | retraining nightly peak | estimate |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for use in filled["disk_use"]:
            lines.append(
                f"| {use['world']} | {use['landed_parquet_mb']} | "
                f"{use['published_warehouse_mb']} ({use['published_per_landed_byte']} x) | "
                f"{use['cold_nightly_peak_mb']} | {use['cold_estimate_mb']} | "
                f"{use['retraining_nightly_peak_mb']} "
                f"({use['retraining_peak_per_published_byte']} x the published file) | "
                f"{use['retraining_estimate_mb']} |"
            )
        lines += [
            "",
            f"What each failed run of the fills ended with (tmpfs of {filled['tmpfs_mb']} MB):",
            "",
            *[f"    {m}" for m in filled["messages"]],
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
