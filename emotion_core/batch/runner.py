"""``batch``: analyse an archive with Ray Data, on this machine or on a cluster, into Parquet tables.

The driver finds the files, hashes them and cuts long videos and tables into parts
(:mod:`emotion_core.batch.archive`); Ray Data sends the parts to a pool of actors, each of which loads the predictors
once; the driver writes each part's rows as they arrive, so a killed run keeps what it finished and ``--resume``
goes on from there. What ``DIR`` holds:

- ``items/<kind>.parquet``: one row per item (face, frame, segment, sentence, row), the columns ``analyze --csv``
  prints for that kind, after ``file``, ``sha256`` and ``part``;
- ``files.parquet``: one row per analysed file (see :func:`emotion_core.batch.archive.summarize_file`);
- ``errors.parquet``: every file or part that could not be analysed, with the reason;
- ``manifest.json``: per run, the inputs, settings, model ids, machine, Ray version, counts and timings;
- ``parts/`` and ``journal.jsonl``: the results as they came in, which ``--resume`` reads.

Ray is imported here only, so the app and the API do not pay for it.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from emotion_core.batch.archive import (
    KINDS,
    Part,
    PredictorSet,
    analyze_part,
    expand_inputs,
    file_kind,
    file_sha256,
    plan_file,
    summarize_file,
)
from emotion_core.config import Settings
from emotion_core.errors import EmotionLensError, InvalidInputError
from emotion_core.remote import check_reachable, start_ray

ERROR_COLUMNS = ("file", "sha256", "kind", "part", "reason")


class BatchStopped(EmotionLensError, RuntimeError):
    """The Ray run broke off (a worker or node died); the parts that finished are kept for ``--resume``."""


@dataclass(frozen=True)
class BatchOptions:
    """How a batch runs; the defaults are the command's.

    ``workers`` is the size of the actor pool (default: every CPU of the cluster, or of this machine);
    ``part_seconds`` and ``part_rows`` cut longer videos and tables into parts that run side by side.
    """

    kinds: tuple[str, ...] = KINDS
    column: str = "text"
    workers: int | None = None
    ray_address: str | None = None
    resume: bool = False
    stride: int = 1
    part_seconds: float = 60.0
    part_rows: int = 5000
    face_model: str = "face_expression"
    detector: str = "blazeface"
    photo_detector: str = "mtcnn"
    object_store_mb: int = 200


class _PartWorker:
    """A Ray Data actor: loads the predictors once, then analyses one part per row of each batch."""

    def __init__(self, *, settings: Settings, options: BatchOptions):
        from emotion_core.runtime import set_inference_threads

        set_inference_threads(1)  # one CPU per actor: the pool, not the thread pools, uses the cores
        self.settings, self.options = settings, options
        self.predictors = PredictorSet(models_dir=settings.models_dir, face_model=options.face_model,
                                       detector=options.detector, photo_detector=options.photo_detector)

    def __call__(self, batch):
        import pandas as pd

        results = []
        for task in batch.to_dict(orient="records"):
            part = Part(**{k: task[k] for k in Part.__dataclass_fields__})
            started, cpu = time.perf_counter(), time.process_time()
            row: dict[str, Any] = {"key": part.key, "ok": True, "reason": "", "table": b"", "info": "{}", "items": 0}
            try:
                table, info = analyze_part(part, self.predictors, settings=self.settings,
                                           stride=self.options.stride, column=self.options.column)
                row["table"], row["info"] = _parquet_bytes(table), json.dumps(info, default=str)
                row["items"] = len(table)
            except EmotionLensError as exc:
                row["ok"], row["reason"] = False, str(exc)
            except Exception as exc:  # one bad file must never stop the run
                row["ok"], row["reason"] = False, f"{part.file}: failed unexpectedly ({exc.__class__.__name__}: {exc})"
            row["seconds"] = time.perf_counter() - started
            row["cpu_s"] = time.process_time() - cpu  # below "seconds" when the worker waits for a core
            row["pid"] = os.getpid()
            results.append(row)
        return pd.DataFrame(results)


def _parquet_bytes(table) -> bytes:
    """The part's rows as Parquet, made in the worker so that the driver only writes bytes."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(table, preserve_index=False), buffer)
    return buffer.getvalue()


class _Journal:
    """``journal.jsonl``: one JSON line per finished part, file or error, appended and flushed as they come."""

    def __init__(self, path: Path):
        self.path = path
        self.records: list[dict[str, Any]] = []
        self._by_file: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
        if path.exists():
            with path.open(encoding="utf-8") as handle:
                for line in handle:
                    if line.strip().endswith("}"):  # a line cut off by a kill is left out
                        self._index(json.loads(line))

    def _index(self, record: dict[str, Any]) -> None:
        self.records.append(record)
        self._by_file.setdefault((record["type"], record.get("sha256")), []).append(record)

    def add(self, record: dict[str, Any]) -> None:
        self._index(record)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, default=str) + "\n")

    def of(self, kind: str, sha256: str | None = None) -> list[dict[str, Any]]:
        """Records of one type, all of them or those of one file (by content hash)."""
        if sha256 is not None:
            return self._by_file.get((kind, sha256), [])
        return [r for r in self.records if r["type"] == kind]


def run_batch(inputs: Sequence[str], *, out_dir: str | Path, settings: Settings,
              options: BatchOptions = BatchOptions(), progress: bool = True) -> dict[str, Any]:
    """Analyse every file named by ``inputs`` (see :func:`emotion_core.batch.archive.expand_inputs`) on Ray.

    Returns the run's entry of the manifest (counts, timings, throughput).

    Raises
    ------
    InvalidInputError
        ``out_dir`` holds an earlier run and ``options.resume`` is off, or an unknown kind is asked for.
    """
    unknown = set(options.kinds) - set(KINDS)
    if unknown:
        raise InvalidInputError(f"--kinds: expected some of {', '.join(KINDS)}, got {', '.join(sorted(unknown))}.")
    if options.stride < 1:
        raise InvalidInputError(f"--stride: expected 1 or more, got {options.stride}.")
    if options.workers is not None and options.workers < 1:
        raise InvalidInputError(f"--workers: expected 1 or more, got {options.workers}.")
    if options.part_seconds <= 0 or options.part_rows < 1:
        raise InvalidInputError("--part-seconds and --part-rows: expected more than 0.")
    if options.ray_address:
        check_reachable(options.ray_address)  # before anything is written
    out = Path(out_dir)
    if (out / "journal.jsonl").exists() and not options.resume:
        raise InvalidInputError(f"{out} holds an earlier batch run; add --resume to continue it, or choose an "
                                "empty folder.")
    out.mkdir(parents=True, exist_ok=True)
    journal = _Journal(out / "journal.jsonl")
    first_record = len(journal.records)
    started, clock = datetime.now(timezone.utc), time.perf_counter()

    files, missing = expand_inputs(inputs)
    for item in missing:
        journal.add({"type": "error", "file": item.input, "sha256": None, "kind": None, "part": None,
                     "reason": f"{item.input}: {item.reason}."})
    counts = {"files_found": len(files), "missing_inputs": len(missing), "already_done": 0, "excluded_kind": 0,
              "duplicates": 0, "files_planned": 0, "parts": 0, "parts_resumed": 0}
    plan = _plan(files, journal=journal, settings=settings, options=options, counts=counts)
    counts["files_planned"] = len(plan)
    parts = [p for file_parts in plan.values() for p in file_parts]
    counts["parts"] = len(parts)
    part_records = {r["key"]: r for r in journal.of("part")}
    pending = [p for p in parts if p.key not in part_records or not _part_path(out, p).exists()]
    counts["parts_resumed"] = len(parts) - len(pending)
    planned_s = time.perf_counter() - clock

    cluster: dict[str, Any] = {}
    if pending:
        cluster = _run_on_ray(pending, out=out, journal=journal, plan=plan, settings=settings, options=options,
                              progress=progress)
    for file_parts in plan.values():  # files whose parts were all done before (a resumed run)
        _finish_file(file_parts, journal=journal)
    wall_s = time.perf_counter() - clock
    tables = _write_tables(out, journal)
    run = _manifest_entry(inputs, options=options, settings=settings, started=started, wall_s=wall_s,
                          planned_s=planned_s, counts=counts, tables=tables, new=journal.records[first_record:],
                          cluster=cluster)
    _append_manifest(out / "manifest.json", run)
    return run


def _plan(files: list[Path], *, journal: _Journal, settings: Settings, options: BatchOptions,
          counts: dict[str, int]) -> dict[str, list[Part]]:
    """The parts of every file still to do, by content hash; what cannot be planned goes to the journal."""
    done = {r["sha256"] for r in journal.of("file") + journal.of("error") if r["sha256"]}
    plan: dict[str, list[Part]] = {}
    for path in files:
        kind = file_kind(path)
        if kind is not None and kind not in options.kinds:
            counts["excluded_kind"] += 1
            continue
        try:
            sha = file_sha256(path)
        except OSError as exc:
            journal.add({"type": "error", "file": str(path), "sha256": None, "kind": kind, "part": None,
                         "reason": f"{path}: cannot be read ({exc.strerror})."})
            continue
        if sha in done:
            counts["already_done"] += 1
            continue
        if sha in plan:
            counts["duplicates"] += 1  # the same content under another name: analysed once
            continue
        if kind is None:
            journal.add({"type": "error", "file": str(path), "sha256": sha, "kind": None, "part": None,
                         "reason": f"{path}: unsupported file type {path.suffix or '(no extension)'}."})
            continue
        try:
            plan[sha] = plan_file(path, kind=kind, sha256=sha, settings=settings, stride=options.stride,
                                  column=options.column, part_seconds=options.part_seconds,
                                  part_rows=options.part_rows)
        except EmotionLensError as exc:
            journal.add({"type": "error", "file": str(path), "sha256": sha, "kind": kind, "part": None,
                         "reason": str(exc)})
    return plan


def _part_path(out: Path, part: Part) -> Path:
    return out / "parts" / part.kind / f"{part.key}.parquet"


def _run_on_ray(pending: list[Part], *, out: Path, journal: _Journal, plan: dict[str, list[Part]],
                settings: Settings, options: BatchOptions, progress: bool) -> dict[str, Any]:
    import ray

    from emotion_core.progress import progress as progress_bar

    clock = time.perf_counter()
    started_here = start_ray(options.ray_address, num_cpus=options.workers, object_store_mb=options.object_store_mb)
    try:
        import ray.data

        resources = ray.cluster_resources()
        ray_start_s = time.perf_counter() - clock
        workers = options.workers or max(1, int(resources.get("CPU", 1)))
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # ours counts parts, files and errors
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        results = (ray.data.from_items([p.to_dict() for p in pending], override_num_blocks=len(pending))
                   .map_batches(_PartWorker, batch_size=1, batch_format="pandas", num_cpus=1,
                                compute=ray.data.ActorPoolStrategy(size=workers),
                                fn_constructor_kwargs={"settings": settings, "options": options}))
        by_key = {p.key: p for p in pending}
        rows = results.iter_rows()
        if progress:
            rows = progress_bar(rows, desc="batch", unit="part", total=len(pending))
        pids: set[int] = set()
        try:
            for row in rows:
                pids.add(int(row["pid"]))
                _record(row, by_key[row["key"]], out=out, journal=journal, plan=plan)
        except ray.exceptions.RayError as exc:  # a worker or node died: what finished is kept
            raise BatchStopped(f"the Ray run stopped ({exc.__class__.__name__}); what finished is kept in {out}: "
                               "run the same command with --resume to go on.") from exc
        return {"ray_start_s": round(ray_start_s, 3), "analysis_s": round(time.perf_counter() - clock - ray_start_s, 3),
                "address": options.ray_address or "local", "nodes": len([n for n in ray.nodes() if n["Alive"]]),
                "cpus": resources.get("CPU"), "workers": workers, "worker_processes": len(pids),
                "ray": ray.__version__}
    finally:
        if started_here:
            ray.shutdown()


def _record(row: dict[str, Any], part: Part, *, out: Path, journal: _Journal, plan: dict[str, list[Part]]) -> None:
    """Keep one part's answer: its rows (written whole or not at all) or its error; then its file, if complete."""
    if row["ok"]:
        path = _part_path(out, part)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(row["table"])
        temporary.replace(path)  # whole or absent, even if the run is killed here
        journal.add({"type": "part", "key": part.key, "sha256": part.sha256, "kind": part.kind,
                     "items": int(row["items"]), "seconds": round(float(row["seconds"]), 4),
                     "cpu_s": round(float(row["cpu_s"]), 4), "info": json.loads(row["info"])})
    else:
        journal.add({"type": "error", "file": part.file, "sha256": part.sha256, "kind": part.kind,
                     "part": part.part, "reason": row["reason"], "seconds": round(float(row["seconds"]), 4)})
    _finish_file(plan[part.sha256], journal=journal)


def _finish_file(parts: list[Part], *, journal: _Journal) -> None:
    """Once every part of a file is done or failed, add its summary (if any part succeeded) to the journal."""
    sha = parts[0].sha256
    if journal.of("file", sha):
        return
    records = {r["key"]: r for r in journal.of("part", sha)}
    failed = {r["part"] for r in journal.of("error", sha)}
    if any(p.key not in records and p.part not in failed for p in parts):
        return
    done = [p for p in parts if p.key in records]
    if not done:
        return  # every part failed: the errors table says why
    summary = summarize_file(done, [records[p.key]["info"] for p in done])
    journal.add({"type": "file", **summary, "failed_parts": len(parts) - len(done),
                 "seconds": round(sum(records[p.key]["seconds"] for p in done), 4)})


def _write_tables(out: Path, journal: _Journal) -> dict[str, int]:
    """``items/<kind>.parquet`` from the parts of finished files, ``files.parquet`` and ``errors.parquet``."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = pd.DataFrame(journal.of("file")).drop(columns=["type"], errors="ignore")
    files = files.drop_duplicates(subset=["sha256"], keep="last") if len(files) else files
    files.to_parquet(out / "files.parquet", index=False)
    errors = pd.DataFrame(journal.of("error"), columns=list(ERROR_COLUMNS))
    errors = errors.drop_duplicates().astype({"part": "Int64"})
    errors.to_parquet(out / "errors.parquet", index=False)
    finished = set(files["sha256"]) if len(files) else set()
    counts = {"files": len(files), "errors": len(errors)}
    (out / "items").mkdir(exist_ok=True)
    for kind in KINDS:
        paths = sorted(p for p in (out / "parts" / kind).glob("*.parquet") if p.name.split("-")[0] in
                       {sha[:20] for sha in finished})
        target = out / "items" / f"{kind}.parquet"
        if not paths:
            target.unlink(missing_ok=True)
            continue
        schema = pa.unify_schemas([pq.read_schema(p) for p in paths], promote_options="permissive")
        items = 0
        with pq.ParquetWriter(target.with_suffix(".tmp"), schema) as writer:
            for path in paths:  # one part at a time: the table of a huge archive never sits in memory
                table = pq.read_table(path)
                for field in schema:
                    if field.name not in table.column_names:
                        table = table.append_column(field.name, pa.nulls(len(table), field.type))
                writer.write_table(table.select(schema.names).cast(schema))
                items += len(table)
        target.with_suffix(".tmp").replace(target)
        counts[f"items_{kind}"] = items
    counts["items"] = sum(v for k, v in counts.items() if k.startswith("items_"))
    return counts


def _manifest_entry(inputs: Sequence[str], *, options: BatchOptions, settings: Settings, started: datetime,
                    wall_s: float, planned_s: float, counts: dict[str, int], tables: dict[str, int],
                    new: list[dict[str, Any]], cluster: dict[str, Any]) -> dict[str, Any]:
    import ray  # the version only; nothing is started

    from emotion_core.timing import machine_info

    analysed = [r for r in new if r["type"] == "part"]
    per_kind: dict[str, dict[str, float]] = {}
    for record in analysed:
        entry = per_kind.setdefault(record["kind"], {"parts": 0, "items": 0, "compute_s": 0.0, "cpu_s": 0.0})
        entry["parts"] += 1
        entry["items"] += record["items"]
        entry["compute_s"] = round(entry["compute_s"] + record["seconds"], 4)
        entry["cpu_s"] = round(entry["cpu_s"] + record.get("cpu_s", 0.0), 4)
    items_now = sum(r["items"] for r in analysed)
    errors_now = sum(r["type"] == "error" for r in new)
    return {
        "started": started.isoformat(timespec="seconds"), "wall_s": round(wall_s, 3), "planning_s": round(planned_s, 3),
        "inputs": [str(i) for i in inputs],
        "options": {**asdict(options), "kinds": list(options.kinds)},
        "settings": {"models_dir": str(settings.models_dir), "max_upload_bytes": settings.max_upload_bytes,
                     "max_image_pixels": settings.max_image_pixels, "max_audio_seconds": settings.max_audio_seconds},
        "models": PredictorSet(models_dir=settings.models_dir, face_model=options.face_model,
                               detector=options.detector, photo_detector=options.photo_detector
                               ).model_ids(options.kinds),
        "machine": {**machine_info(), "ray": ray.__version__}, "cluster": cluster,
        "counts": {**counts, "parts_analysed": len(analysed), "errors_now": errors_now, "items_analysed": items_now},
        "totals": tables,
        "per_kind": per_kind,  # the workers' wall and CPU seconds; a worker's first part of a kind loads its model
        "throughput": {"parts_per_s": round(len(analysed) / wall_s, 4) if wall_s else None,
                       "items_per_s": round(items_now / wall_s, 4) if wall_s else None},
    }


def _append_manifest(path: Path, run: dict[str, Any]) -> None:
    manifest = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"runs": []}
    manifest["runs"].append(run)
    manifest["latest"] = run
    path.write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")


def summary_line(run: dict[str, Any], out_dir: str | Path) -> str:
    """The end-of-run summary the command prints."""
    counts, totals = run["counts"], run["totals"]
    return (f"batch: {counts['files_planned']} file(s) analysed, {counts['already_done']} already done, "
            f"{counts['parts_analysed']} part(s) run, {counts['items_analysed']} item(s), {counts['errors_now']} "
            f"error(s) ({totals['errors']} in all); {run['wall_s']:.1f} s, "
            f"{run['throughput']['parts_per_s'] or 0:.2f} parts/s, "
            f"{run['throughput']['items_per_s'] or 0:.1f} items/s -> {out_dir} "
            f"({totals['files']} files, {totals['items']} items in the tables)")
