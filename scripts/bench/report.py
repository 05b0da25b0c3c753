#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the benchmark guest's BENCH records into tables, JSON and plots.

usage:
  report.py --results results.log --meta meta.json --json OUT.json --md OUT.md --plots DIR
  report.py --from OUT.json --md OUT.md --plots DIR      (redraw from the JSON)

Every figure is computed here from the raw samples; nothing is typed in.
Medians with min and max over the repetitions; ratios are of medians.
"""
import argparse
import json
import re
import statistics
import sys
from collections import defaultdict

USER_HZ = 100


def slim_fio(r):
    """fio's JSON without what never carries data here (the trim and sync
    sections, the direction without I/O, histogram buckets)."""
    f = r.get("fio")
    if not isinstance(f, dict):
        return
    for j in f.get("jobs", []):
        for k in ("trim", "sync", "latency_ns", "latency_us", "latency_ms", "iodepth_submit",
                  "iodepth_complete"):
            j.pop(k, None)
        for d in ("read", "write"):
            if d in j and not j[d].get("total_ios"):
                j.pop(d)


def load_records(path):
    recs = []
    with open(path, errors="replace") as f:
        for line in f:
            i = line.find("BENCH {")
            if i < 0:
                continue
            try:
                r = json.loads(line[i + 6:].strip())
                slim_fio(r)
                recs.append(r)
            except json.JSONDecodeError as e:
                print(f"report: unparsable BENCH line ({e}): {line[:200]}", file=sys.stderr)
                recs.append({"case": "failure", "msg": "unparsable BENCH line"})
    return recs


# ---- derived per-sample metrics ------------------------------------------

def secs(r):
    return r["usec"] / 1e6


def cpu_s(r):
    return (r["d_user"] + r["d_sys"] + r["d_irq"]) / USER_HZ


def kib_per_req(r, d):
    ios = r[f"d_{d}_ios"]
    return r[f"d_{d}_sect"] / 2 / ios if ios else 0.0


def fio_job(r):
    jobs = r.get("fio", {}).get("jobs", [])
    return jobs[0] if jobs else None


def fio_dir(r):
    return "write" if "write" in r.get("rw", "") else "read"


def fio_iops(r):
    j = fio_job(r)
    return j[fio_dir(r)]["iops"] if j and fio_dir(r) in j else float("nan")


def fio_mbps(r):
    j = fio_job(r)
    return j[fio_dir(r)]["bw_bytes"] / 1e6 if j and fio_dir(r) in j else float("nan")


def fio_ios(r):
    j = fio_job(r)
    return j[fio_dir(r)]["total_ios"] if j and fio_dir(r) in j else 0


def fio_pct(r, p="99.000000"):
    j = fio_job(r)
    if not j or fio_dir(r) not in j:
        return float("nan")
    # total latency (submission + completion): a bio-based driver that
    # completes inside submit_bio shows its time as submission latency
    d = j[fio_dir(r)]
    pc = d.get("lat_ns", {}).get("percentile") or d.get("clat_ns", {}).get("percentile", {})
    return pc.get(p, float("nan")) / 1000.0


def fio_cpu_us_per_io(r):
    """CPU of fio's job threads (user + system, which includes the
    synchronous driver work done in the submitting thread) per I/O."""
    j = fio_job(r)
    n = fio_ios(r)
    if not j or not n:
        return float("nan")
    cpu = (j["usr_cpu"] + j["sys_cpu"]) / 100 * j["job_runtime"] / 1000
    return cpu * 1e6 / n


def sys_cpu_us_per_io(r):
    """CPU of the whole guest (/proc/stat) during the fio run, fio's start
    and exit included, per I/O."""
    n = fio_ios(r)
    return cpu_s(r) * 1e6 / n if n else float("nan")


# ---- statistics ---------------------------------------------------------

def stat(vals):
    vals = [v for v in vals if v == v]
    if not vals:
        return None
    return (statistics.median(vals), min(vals), max(vals), len(vals))


def fmt(st, digits=2, unit=""):
    if st is None:
        return "n/a"
    m, lo, hi, n = st
    f = f"{{:.{digits}f}}"
    if n == 1:
        return f.format(m) + unit
    return f"{f.format(m)}{unit} ({f.format(lo)}-{f.format(hi)})"


def med(st):
    return st[0] if st else float("nan")


def ratio(a, b, digits=1):
    if a != a or b != b or not b:
        return "n/a"
    return f"{a / b:.{digits}f}x"


class Report:
    def __init__(self, samples, meta):
        self.samples = samples
        self.meta = meta
        self.md = []
        self.by = defaultdict(list)
        for r in samples:
            self.by[r.get("case")].append(r)

    def out(self, s=""):
        self.md.append(s)

    def sel(self, case, **kw):
        return [r for r in self.by.get(case, []) if all(r.get(k) == v for k, v in kw.items())]

    def table(self, header, rows):
        self.out("| " + " | ".join(header) + " |")
        self.out("|" + "---|" * len(header))
        for row in rows:
            self.out("| " + " | ".join(str(c) for c in row) + " |")
        self.out()

    # A standard table for timed operations: one row per variant.
    def op_table(self, case, variants, pages_key="pages", raw=None, base="zram", extra=None,
                 per_page_from_bd=None, title_note=None, **kw):
        rows = []
        meds = {}
        for v in variants:
            rs = self.sel(case, variant=v, **kw) if v != "raw" or raw is None else raw
            if not rs:
                continue
            t = stat([secs(r) for r in rs])
            meds[v] = med(t)

            def pages_of(r):
                if per_page_from_bd and r.get(f"d_bd_{per_page_from_bd}", 0) > 0:
                    return r[f"d_bd_{per_page_from_bd}"]
                return r.get(pages_key) or r.get("pages") or 0
            upp = stat([r["usec"] / pages_of(r) for r in rs if pages_of(r)])
            d = "w" if per_page_from_bd == "writes" else "r"
            if per_page_from_bd is None:
                d = "w" if sum(r["d_w_ios"] for r in rs) > sum(r["d_r_ios"] for r in rs) else "r"
            rows.append([
                v, len(rs), fmt(t, 3), fmt(upp, 1),
                fmt(stat([r[f"d_{d}_ios"] for r in rs]), 0),
                fmt(stat([r[f"d_{d}_merges"] for r in rs]), 0),
                fmt(stat([kib_per_req(r, d) for r in rs]), 1),
                fmt(stat([cpu_s(r) for r in rs]), 2),
                fmt(stat([r["d_ctxt"] for r in rs]), 0),
                f"{int(statistics.median([r['d_bd_writes'] for r in rs]))}/"
                f"{int(statistics.median([r['d_bd_reads'] for r in rs]))}",
            ])
        if not rows:
            self.out("(no samples)\n")
            return meds
        hdr = ["variant", "runs", "wall s median (min-max)", "µs/page", "disk I/Os",
               "merges", "KiB/req", "CPU s", "ctx switches", "bd writes/reads"]
        b = meds.get(base)
        rawm = meds.get("raw")
        for row in rows:
            v = row[0]
            row.append(ratio(b, meds[v]) if b else "n/a")
            row.append(ratio(meds[v], rawm) if rawm and v != "raw" else "")
        hdr += [f"{base} / variant (time)", "variant / raw (time)"]
        self.table(hdr, rows)
        return meds


def build(samples, meta):
    R = Report(samples, meta)
    out = R.out
    cfg = (R.by.get("config") or [{}])[0]
    failures = R.by.get("failure", [])
    reps = cfg.get("reps", "?")

    out("# rzram benchmarks")
    out()
    out("Generated by `make bench` (scripts/bench.sh, scripts/bench/report.py) from the raw samples "
        f"in `{meta.get('json_name', 'bench-results.json')}`; do not edit by hand.")
    out()
    out("## Setup")
    out()
    out(f"- Command: `{meta.get('command', '?')}`; repetitions per variant: {reps}; "
        f"date {meta.get('date', '?')}; commit {meta.get('commit', '?')}.")
    out(f"- Host: {meta.get('host_cpu', '?')}, {meta.get('host_cpus', '?')} CPUs; load average "
        f"before {meta.get('load_before', '?')}, after {meta.get('load_after', '?')}; "
        f"other QEMU processes (other sessions' test runs) "
        f"{meta.get('other_qemu', '?')}.")
    out(f"- Guest: QEMU {meta.get('qemu', '?')} TCG (`-accel tcg,thread=multi -cpu max,la57=off "
        f"-smp 2 -m 3G`, q35), plain kernel {cfg.get('kernel', '?')}, {cfg.get('cpus', '?')} vCPUs, "
        f"{int(cfg.get('mem_kib', 0)) // 1024} MiB. Nested KVM is unavailable: every figure is emulated.")
    out(f"- Backing disk: /dev/{cfg.get('disk', '?')}, virtio-blk, raw image of "
        f"{int(cfg.get('disk_bytes', 0)) >> 20} MiB, **QEMU cache mode `{meta.get('cache', '?')}`** "
        "(O_DIRECT on the host: the host page cache does not absorb the I/O). "
        "The whole image is written once before any timed case.")
    out(f"- zram: the in-tree 6.12 zram; rzram: this module (parameters at load: `{cfg.get('params', '').strip()}`). "
        "Both with disksize 1G, lzo-rle, the same backing disk and the same data files (generated in the "
        "guest's tmpfs by benchtool). Variants alternate within each repetition (zram, rzram, ...).")
    rb = "present" if cfg.get("have_rb_chain") else "absent (the rzram-rbold variant is skipped)"
    bp = "present" if cfg.get("have_bio_pages") else "absent (its variant is skipped)"
    out(f"- Module knobs: wb_plug, wb_contig (writeback), wb_bio_pages {bp}, rb_chain {rb}.")
    out("- Per sample: wall time; the backing disk's /sys/block/X/stat deltas (I/Os, merges, KiB per "
        "request, in the direction of the operation); CPU time (user+system+irq+softirq, all CPUs) and "
        "context switches from /proc/stat; bd_stat deltas. Cells are median (min-max).")
    out(f"- Sizes: seed {cfg.get('seed_pages')} pages; other writeback/read-back cases "
        f"{cfg.get('pages')} pages; raw fio jobs {cfg.get('raw_mib')} MiB; random-read jobs "
        f"{cfg.get('fio_ios')} I/Os; front-end jobs {cfg.get('fe_mib')} MiB (4K) and "
        f"{4 * int(cfg.get('fe_mib') or 0)} MiB (128K); swap-in: a process of 32 + {cfg.get('swap_mib')} MiB.")
    out("- Every case checks its data afterwards: cmp of the device (or what was read from it) against "
        "the data file, cmp of zram0 against rzram0 after the same fio writes (fio's data is deterministic), "
        "or the swap process comparing every word with its generator. A mismatch fails the run.")
    out("- fio latency percentiles are of total latency (submission + completion, `lat_percentiles`): "
        "a bio-based driver that completes inside submit_bio shows its time as submission latency.")
    out()
    if failures:
        out("## FAILURES")
        out()
        for f in failures:
            out(f"- {f.get('msg')}")
        out()

    # ---- 1. raw
    out("## 1. Raw device bound (fio on the backing disk)")
    out()
    out(f"fio, O_DIRECT, libaio, {cfg.get('raw_mib')} MiB per job, directly on /dev/{cfg.get('disk')}.")
    out()
    rows = []
    shapes = []
    for r in R.by.get("raw_fio", []):
        if r["shape"] not in shapes:
            shapes.append(r["shape"])
    raw_upp = {}
    for sh in shapes:
        rs = R.sel("raw_fio", shape=sh)
        bs = rs[0]["bs"]
        pages_per_io = {"4k": 1, "128k": 32, "1m": 256}.get(bs, 1)
        mb = stat([fio_mbps(r) for r in rs])
        iops = stat([fio_iops(r) for r in rs])
        upp = stat([1e6 / fio_iops(r) / pages_per_io for r in rs])
        raw_upp[sh] = med(upp)
        rows.append([sh, len(rs), fmt(mb, 1), fmt(iops, 0), fmt(upp, 1),
                     fmt(stat([fio_pct(r) for r in rs]), 0),
                     fmt(stat([kib_per_req(r, 'w' if 'write' in sh else 'r') for r in rs]), 1),
                     fmt(stat([r["d_w_merges"] + r["d_r_merges"] for r in rs]), 0)])
    R.table(["shape", "runs", "MB/s", "IOPS", "µs per 4K page", "p99 µs", "KiB/req", "merges"], rows)
    rows = []
    for op in ("write", "read"):
        rs = R.sel("raw_dd", op=op)
        if rs:
            rows.append([f"dd 1 MiB O_DIRECT {op}, {rs[0]['pages']} pages", len(rs),
                         fmt(stat([secs(r) for r in rs]), 3),
                         fmt(stat([r['usec'] / r['pages'] for r in rs]), 1)])
    if rows:
        out("The seed's byte count with dd (the data file to the disk and back, compared):")
        out()
        R.table(["operation", "runs", "wall s", "µs/page"], rows)

    raw_w = R.sel("raw_dd", op="write")
    raw_r = R.sel("raw_dd", op="read")
    for r in raw_w + raw_r:
        r["variant"] = "raw"

    # ---- 2. writeback
    out("## 2. Writeback")
    out()
    out(f"### 2a. Seed scenario: {cfg.get('seed_pages')} random pages")
    out()
    sp = int(cfg.get("seed_pages") or 0)
    out(f"zram 6.12 `huge` (writes every page, page 0 included), rzram `page_indexes=1-{sp - 1}` "
        "and rzram `huge`. Raw bound: dd of the same bytes, 1 MiB O_DIRECT, to the backing disk.")
    out()
    R.op_table("wb_seed", ["zram", "rzram", "rzram-huge", "raw"], raw=raw_w, per_page_from_bd="writes")
    out("Then every page read back (dd 1 MiB O_DIRECT) and compared:")
    out()
    R.op_table("rb_seed_1m", ["zram", "rzram", "rzram-huge", "raw"], raw=raw_r)
    out("Filling the device (dd 1 MiB O_DIRECT from tmpfs, before each writeback):")
    out()
    R.op_table("fill", ["zram", "rzram", "rzram-huge"])

    out(f"### 2b. Compressible idle data (~2:1), `idle` after `idle all`, {cfg.get('pages')} pages")
    out()
    R.op_table("wb_idle", ["zram", "rzram"], per_page_from_bd="writes")
    mm = []
    for v in ("zram", "rzram"):
        rs = R.sel("mm_idle", variant=v)
        if rs:
            f = [int(x) for x in rs[0]["mm_stat"].split()]
            mm.append([v, f[0], f[1], f"{f[0] / f[1]:.2f}" if f[1] else "n/a"])
    if mm:
        R.table(["variant", "orig_data_size", "compr_data_size", "ratio"], mm)

    out(f"### 2c. Fragmented backing device, {cfg.get('pages')} pages")
    out()
    out("All pages written back (`huge`), every other page overwritten with new random data (which frees "
        "every other block), then written back again: the second writeback is timed into a bitmap of "
        "one-block holes. This is upstream's argument against blk_plug.")
    out()
    out("First writeback (fresh bitmap):")
    out()
    R.op_table("wb_frag1", ["zram", "rzram", "rzram-noplug", "rzram-nocontig"], per_page_from_bd="writes")
    out("Second writeback (into the holes):")
    out()
    R.op_table("wb_frag2", ["zram", "rzram", "rzram-noplug", "rzram-nocontig"], per_page_from_bd="writes")

    out(f"### 2d. writeback_batch_size, {cfg.get('pages')} random pages")
    out()
    out("rzram `page_indexes`, fresh bitmap each sample; zram 6.12 (one page at a time) for reference.")
    out()
    rows = []
    zb = stat([secs(r) for r in R.sel("wb_batch", variant="zram")])
    batches = sorted({r["batch"] for r in R.sel("wb_batch", variant="rzram") if isinstance(r["batch"], int)})
    if zb:
        rows.append(["zram 6.12", "-", len(R.sel("wb_batch", variant="zram")), fmt(zb, 3), "1.0x", "",
                     fmt(stat([kib_per_req(r, 'w') for r in R.sel('wb_batch', variant='zram')]), 1)])
    for b in batches:
        rs = R.sel("wb_batch", variant="rzram", batch=b)
        t = stat([secs(r) for r in rs])
        rows.append(["rzram", b, len(rs), fmt(t, 3), ratio(med(zb), med(t)),
                     fmt(stat([r['usec'] / max(r['d_bd_writes'], 1) for r in rs]), 1),
                     fmt(stat([kib_per_req(r, 'w') for r in rs]), 1)])
    R.table(["variant", "batch", "runs", "wall s", "zram / rzram", "µs/page", "KiB/req"], rows)

    defb = (R.by.get("wb_default_batch") or [{"batch": 32}])[0]["batch"]
    out(f"### 2e. Design knobs (writeback_batch_size {defb}, the module's default; fresh bitmap)")
    out()
    for r in R.sel("wb_batch", variant="rzram", batch=defb):
        r2 = dict(r)
        r2["case"] = "wb_knobs"
        r2["variant"] = "rzram"
        R.by["wb_knobs"].append(r2)
    for r in R.sel("wb_batch", variant="zram"):
        r2 = dict(r)
        r2["case"] = "wb_knobs"
        R.by["wb_knobs"].append(r2)
    R.op_table("wb_knobs", ["zram", "rzram", "rzram-noplug", "rzram-nocontig", "rzram-noplug-nocontig",
                            "rzram-bio1"], per_page_from_bd="writes")
    out("(rzram = every knob at its default (wb_plug=1 wb_contig=1, wb_bio_pages=0 where the module has it); "
        "noplug = wb_plug=0, nocontig = wb_contig=0, bio1 = wb_bio_pages=1, one bio per page.)")
    out()

    # ---- 3. read-back
    out(f"## 3. Read-back of written-back pages ({cfg.get('pages')} random pages)")
    out()
    vs = ["zram", "rzram", "rzram-rbold", "raw"]
    out("raw = the same reads of the same data on the backing disk itself. rzram-rbold = rb_chain=0 "
        "(each read of a written-back page through a worker and submit_bio_wait), on the same "
        "written-back state as rzram.")
    out()
    for case, title in (("rb_1m", "dd bs=1M iflag=direct, every page"),
                        ("rb_4k", "dd bs=4K iflag=direct, every page"),
                        ("rb_buf", "dd bs=1M buffered, after drop_caches, every page")):
        out(f"### {case}: {title}")
        out()
        R.op_table(case, vs, base="zram")
    for qd in (1, 16):
        case = f"rb_qd{qd}"
        out(f"### {case}: fio 4K random read, QD{qd} (libaio), {cfg.get('fio_ios')} I/Os")
        out()
        rows = []
        meds = {}
        for v in vs:
            rs = R.sel(case, variant=v)
            if not rs:
                continue
            iops = stat([fio_iops(r) for r in rs])
            meds[v] = med(iops)
            rows.append([v, len(rs), fmt(iops, 0), fmt(stat([fio_pct(r) for r in rs]), 0),
                         fmt(stat([fio_pct(r, '50.000000') for r in rs]), 0),
                         fmt(stat([sys_cpu_us_per_io(r) for r in rs]), 1),
                         fmt(stat([r['d_r_ios'] for r in rs]), 0)])
        for row in rows:
            v = row[0]
            row.append(ratio(meds[v], meds.get("zram", float("nan"))))
            row.append(ratio(meds[v], meds.get("raw", float("nan"))) if v != "raw" else "")
        R.table(["variant", "runs", "IOPS", "p99 µs", "p50 µs", "guest CPU µs/IO (fio start incl.)", "disk reads",
                 "variant / zram (IOPS)", "variant / raw (IOPS)"], rows)

    # ---- 4. swap
    out(f"## 4. Swap-in ({cfg.get('swap_mib')} MiB pushed out past free memory)")
    out()
    out("The device is the only swap, with the backing disk. Free memory is taken down to about 32 MiB "
        "with reserved huge pages, a process of 32 MiB plus that amount fills its memory with random "
        "words (swap-out under pressure), pages out what is still resident (MADV_PAGEOUT, so all of it is "
        "in swap), `idle all` + `writeback idle`, the huge pages are released, then either the process "
        "re-reads and checks all its memory (touch, timed) or swapoff is timed (then the process checks "
        "its memory). Reclaim also swaps out tmpfs pages (the initramfs), so swapoff reads more than the "
        "process; µs/page is per page read from the backing device.")
    out()
    for case, title in (("swap_fill", "swap-out: the process filling its memory"),
                        ("swap_wb", "writeback idle of the swapped pages"),
                        ("swap_touch", "swap-in: the process re-reading and checking all its memory"),
                        ("swap_off", "swapoff")):
        out(f"### {case}: {title}")
        out()
        R.op_table(case, ["zram", "rzram"],
                   per_page_from_bd="writes" if case == "swap_wb" else
                   ("reads" if case in ("swap_touch", "swap_off") else None))
    rs = R.by.get("swap_pageout", [])
    if rs:
        out(f"Per run: process {fmt(stat([r['vmswap_kb'] / 1024 for r in rs]), 1)} MiB in swap after "
            f"MADV_PAGEOUT, swap used in all {fmt(stat([r['swapped_kb'] / 1024 for r in rs]), 1)} MiB "
            f"(process size {fmt(stat([r['mib'] for r in R.by.get('swap_fill', [])]), 0)} MiB). "
            "guest CPU in the tables is /proc/stat's, per run.")
        out()

    # ---- 5. front-end
    fe = cfg.get('fe_mib') or 0
    out(f"## 5. Front-end fio (no backing device, O_DIRECT, psync; 4K jobs {fe} MiB, 128K jobs {fe * 4} MiB)")
    out()
    out("**rzram does no block-layer I/O accounting (no bio_start_io_acct / bio_end_io_acct); zram does, "
        "and its cost is included in zram's figures.** CPU µs/IO = user+system time of fio's job threads "
        "(fio's usr_cpu and sys_cpu over job_runtime) per I/O; the drivers do their work in the submitting "
        "thread here (no backing device).")
    out()
    rows = []
    keys = []
    for r in R.by.get("fe", []):
        k = (r["data"], r["rw"], r["bs"], r["jobs"])
        if k not in keys:
            keys.append(k)
    for k in keys:
        data, rw, bs, nj = k
        cells = {}
        for v in ("zram", "rzram"):
            rs = R.sel("fe", variant=v, data=data, rw=rw, bs=bs, jobs=nj)
            cells[v] = (stat([fio_mbps(r) for r in rs]), stat([fio_pct(r) for r in rs]),
                        stat([fio_cpu_us_per_io(r) for r in rs]), len(rs))
        z, rz = cells["zram"], cells["rzram"]
        rows.append([data, rw, bs, nj, z[3], fmt(z[0], 1), fmt(rz[0], 1), ratio(med(rz[0]), med(z[0]), 2),
                     fmt(z[1], 0), fmt(rz[1], 0), fmt(z[2], 1), fmt(rz[2], 1)])
    R.table(["data", "rw", "bs", "jobs", "runs", "zram MB/s", "rzram MB/s", "rzram / zram (MB/s)",
             "zram p99 µs", "rzram p99 µs", "zram CPU µs/IO", "rzram CPU µs/IO"], rows)

    # ---- 6. memory
    out(f"## 6. Memory ({cfg.get('pages')} pages per dataset, no backing device)")
    out()
    rows = []
    names = ["orig_data_size", "compr_data_size", "mem_used_total", "mem_limit", "mem_used_max",
             "same_pages", "pages_compacted", "huge_pages", "huge_pages_since"]
    for data in ("half", "same", "random"):
        for v in ("zram", "rzram"):
            rs = R.sel("mem_data", variant=v, data=data)
            if not rs:
                continue
            f = [int(x) for x in rs[-1]["mm_stat"].split()]
            d = dict(zip(names, f))
            rows.append([data, v, d["orig_data_size"], d["compr_data_size"], d["mem_used_total"],
                         d["same_pages"], d["huge_pages"],
                         fmt(stat([int(r["mm_stat"].split()[2]) for r in rs]), 0)])
    R.table(["data", "variant", "orig_data_size", "compr_data_size", "mem_used_total", "same_pages",
             "huge_pages", "mem_used_total over runs"], rows)
    out("Slot table, measured: (increase at disksize 4G - increase at disksize 1G) / (3 GiB / 4 KiB slots), "
        "from /proc/meminfo:")
    out()
    rows = []
    for v in ("zram", "rzram"):
        per = defaultdict(list)
        for rep in sorted({r["rep"] for r in R.sel("mem_table", variant=v)}):
            a = R.sel("mem_table", variant=v, rep=rep, disksize="1G")
            b = R.sel("mem_table", variant=v, rep=rep, disksize="4G")
            if not a or not b:
                continue
            slots = 3 * (1 << 30) // 4096
            for k in ("d_vmalloc_kb", "d_slab_kb", "d_percpu_kb", "d_memfree_kb"):
                per[k].append((b[0][k] - a[0][k]) * 1024 / slots)
            per["tot"].append(((b[0]["d_vmalloc_kb"] + b[0]["d_slab_kb"] + b[0]["d_percpu_kb"])
                               - (a[0]["d_vmalloc_kb"] + a[0]["d_slab_kb"] + a[0]["d_percpu_kb"])) * 1024 / slots)
        if per:
            a1 = stat([r["d_vmalloc_kb"] + r["d_slab_kb"] + r["d_percpu_kb"]
                       for r in R.sel("mem_table", variant=v, disksize="1G")])
            rows.append([v, fmt(stat(per["d_vmalloc_kb"]), 2), fmt(stat(per["d_slab_kb"]), 2),
                         fmt(stat(per["d_percpu_kb"]), 2), fmt(stat(per["tot"]), 2),
                         fmt(stat(per["d_memfree_kb"]), 2), fmt(a1, 0)])
    R.table(["variant", "vmalloc B/slot", "slab B/slot", "percpu B/slot", "total B/slot",
             "MemFree drop B/slot", "kB allocated by disksize=1G"], rows)

    # ---- packed writeback
    if R.by.get("pk_wb"):
        pack_section(R)

    # ---- summary
    out("## Summary: where rzram stands (ratios of medians)")
    out()
    rows = summary_rows(R)
    out("raw: for the seed rows the faster of dd 1 MiB O_DIRECT and fio 1 MiB QD4 on the backing disk, "
        "scaled to the seed's bytes; for the other writeback rows fio 1 MiB QD4 sequential write scaled to "
        "their bytes, and for the fragmented second writeback (single-block holes) fio 4K random write QD32 "
        "scaled to its pages; for the read-back rows the same reads on the backing disk. "
        "zram / rzram > 1: rzram is faster (for MB/s and IOPS rows the ratio is rzram / zram). "
        "rzram / raw < 1 would mean faster than the disk's measured bound (the bound is a QD1 or QD4 stream).")
    out()
    R.table(["case", "zram", "rzram", "raw", "zram / rzram", "rzram / raw", "rzram faster?"], rows)
    R.summary = rows
    return R


PK_VARIANTS = ("zram", "rzram", "rzram-z1", "rzram-pk")


def pack_section(R):
    """Case 7 (tests/bench_pack.sh): uncompressed, one object a block, and
    packed writeback of the same compressible data, then the fragmentation
    left by overwriting a random half, before and after writeback_compact."""
    out = R.out
    out("## 7. Packed writeback (compressed objects sharing blocks)")
    out()
    out("Datasets r2 and r3 (benchtool): each page N random bytes then zeros, N drawn per page from "
        "1400-2399 (about 2:1 with lzo-rle) or 900-1799 (about 3:1). All pages written back "
        "(`page_indexes`; zram 6.12: `idle` after `idle all`, uncompressed), then read back with dd 1 MiB "
        "O_DIRECT and compared. rzram: uncompressed writeback; rzram-z1: `compressed_writeback` (one "
        "object a block, as 7.0); rzram-pk: `compressed_writeback` + `packed_writeback`. "
        "Disk writes are the backing disk's own counters (/sys/block/X/stat). The ratio is "
        "orig_data_size / compr_data_size before the writeback.")
    out()
    for ds in sorted({r["dataset"] for r in R.by["pk_wb"]}):
        rows = []
        base = {}
        for v in PK_VARIANTS:
            wb = R.sel("pk_wb", variant=v, dataset=ds)
            rb = R.sel("pk_rb", variant=v, dataset=ds)
            if not wb:
                continue
            mib = stat([r["d_w_sect"] / 2048 for r in wb])
            reqs = stat([r["d_w_ios"] for r in wb])
            blocks = stat([r["bd_count"] for r in wb])
            tw = stat([secs(r) for r in wb])
            tr = stat([secs(r) for r in rb])
            base[v] = (med(mib), med(blocks), med(tw), med(tr))
            ratio_c = stat([r["orig"] / r["compr"] for r in wb if r.get("compr")])
            rows.append([v, len(wb), fmt(ratio_c, 2), fmt(mib, 1), fmt(reqs, 0), fmt(blocks, 0),
                         fmt(tw, 3), fmt(stat([cpu_s(r) for r in wb]), 2),
                         fmt(tr, 3), fmt(stat([cpu_s(r) for r in rb]), 2)])
        u = base.get("rzram")
        for row in rows:
            m = base[row[0]]
            row += [ratio(u[0], m[0], 2) if u else "n/a", ratio(u[1], m[1], 2) if u else "n/a",
                    ratio(m[3], u[3], 2) if u else "n/a"]
        out(f"Dataset {ds}, {R.by['pk_wb'][0].get('pages')} pages:")
        out()
        pages = R.by["pk_wb"][0].get("pages") or 0
        raw = {op: stat([secs(r) * pages / r["pages"] for r in R.sel("raw_dd", op=op) if r.get("pages")])
               for op in ("write", "read")}
        if raw["write"] and raw["read"]:
            out(f"Raw backing disk, for reference: dd 1 MiB O_DIRECT of the same {pages} pages uncompressed "
                f"(case raw_dd, scaled): write {fmt(raw['write'], 3)} s, read {fmt(raw['read'], 3)} s.")
            out()
        R.table(["variant", "runs", "compression ratio", "MiB written", "write requests",
                 "blocks in use (bd_count)", "writeback s", "writeback CPU s", "read-back s",
                 "read-back CPU s", "writes: rzram / variant", "blocks: rzram / variant",
                 "read-back: variant / rzram (time)"], rows)
        pk = base.get("rzram-pk")
        cr = stat([r["orig"] / r["compr"] for r in R.sel("pk_wb", variant="rzram-pk", dataset=ds)
                   if r.get("compr")])
        if pk and u and cr:
            target = 0.8 * med(cr)
            got_w, got_b = u[0] / pk[0], u[1] / pk[1]
            verdict = "met" if min(got_w, got_b) >= target and pk[3] <= u[3] else "missed"
            out(f"Target (0.8 x compression ratio = {target:.2f}x fewer writes and blocks, read-back no "
                f"slower than uncompressed): writes {got_w:.2f}x, blocks {got_b:.2f}x, read-back "
                f"{pk[3] / u[3]:.2f}x the uncompressed time: **{verdict}**.")
            out()
        rows = []
        for when in ("before", "after"):
            fr = R.sel("pk_frag", dataset=ds, when=when)
            if not fr:
                continue
            rows.append([when, fmt(stat([r["objects"] for r in fr]), 0), fmt(stat([r["blocks"] for r in fr]), 0),
                         fmt(stat([r["sparse"] for r in fr]), 0),
                         fmt(stat([r["sparse_dead"] / 1048576 for r in fr]), 2),
                         fmt(stat([r["bytes"] * 100 / (r["blocks"] * 4096) for r in fr if r["blocks"]]), 1),
                         fmt(stat([r["bd_count"] for r in fr]), 0)])
        if rows:
            ct = stat([secs(r) for r in R.sel("pk_compact", dataset=ds)])
            cw = stat([r["d_w_ios"] for r in R.sel("pk_compact", dataset=ds)])
            out(f"After overwriting a random half of the pages (rzram-pk), then `writeback_compact` "
                f"({fmt(ct, 3)} s, {fmt(cw, 0)} write requests):")
            out()
            R.table(["", "objects", "packed blocks", "sparse blocks", "dead MiB in sparse blocks",
                     "fill %", "bd_count"], rows)


def med_of(R, case, fn=secs, **kw):
    rs = R.sel(case, **kw)
    return statistics.median([fn(r) for r in rs]) if rs else float("nan")


def summary_rows(R):
    rows = []

    def add(name, z, rz, raw=float("nan"), unit="s", higher_better=False):
        def f(x):
            return "n/a" if x != x else (f"{x:.3f} {unit}" if unit == "s" else f"{x:.0f} {unit}")
        if higher_better:
            zr = ratio(rz, z, 2)
            rr = ratio(rz, raw, 2)
            faster = "yes" if rz > z else "NO"
        else:
            zr = ratio(z, rz, 2)
            rr = ratio(rz, raw, 2)
            faster = "yes" if rz < z else "NO"
        rows.append([name, f(z), f(rz), f(raw), zr, rr, faster])

    # the raw bound of the seed: the faster of dd 1 MiB (QD1) and fio 1 MiB
    # QD4, scaled to the seed's bytes
    sp = (R.by.get("config") or [{}])[0].get("seed_pages") or 0

    def fio_bound(shape):
        rs = R.sel("raw_fio", shape=shape)
        return statistics.median([sp / 256 / fio_iops(r) for r in rs]) if rs else float("nan")
    def fio_pages(shape, pages, per_io=256):
        rs = R.sel("raw_fio", shape=shape)
        return statistics.median([pages / per_io / fio_iops(r) for r in rs]) if rs else float("nan")

    raw_w = min(med_of(R, "raw_dd", op="write"), fio_bound("seq-write-1m-qd4"))
    raw_r = min(med_of(R, "raw_dd", op="read"), fio_bound("seq-read-1m-qd4"))
    add("writeback seed (rzram page_indexes)", med_of(R, "wb_seed", variant="zram"),
        med_of(R, "wb_seed", variant="rzram"), raw_w)
    add("writeback seed (rzram huge)", med_of(R, "wb_seed", variant="zram"),
        med_of(R, "wb_seed", variant="rzram-huge"), raw_w)
    add("read-back seed, dd 1M", med_of(R, "rb_seed_1m", variant="zram"),
        med_of(R, "rb_seed_1m", variant="rzram"), raw_r)
    npg = (R.by.get("config") or [{}])[0].get("pages") or 0
    seqb = fio_pages("seq-write-1m-qd4", npg)
    holeb = fio_pages("rand-write-4k-qd32", npg // 2, 1)
    add("writeback idle, compressible", med_of(R, "wb_idle", variant="zram"), med_of(R, "wb_idle", variant="rzram"),
        seqb)
    add("writeback fragmented (2nd)", med_of(R, "wb_frag2", variant="zram"), med_of(R, "wb_frag2", variant="rzram"),
        holeb)
    defb = (R.by.get("wb_default_batch") or [{"batch": 32}])[0]["batch"]
    add(f"writeback {R.sel('wb_batch', variant='zram')[0]['pages'] if R.sel('wb_batch', variant='zram') else ''} "
        f"pages, default batch {defb}", med_of(R, "wb_batch", variant="zram"),
        med_of(R, "wb_batch", variant="rzram", batch=defb), seqb)
    for b in (1, 1024):
        if R.sel("wb_batch", variant="rzram", batch=b):
            add(f"writeback, batch {b}", med_of(R, "wb_batch", variant="zram"),
                med_of(R, "wb_batch", variant="rzram", batch=b), seqb)
    for v in ("noplug", "nocontig", "noplug-nocontig", "bio1"):
        if R.sel("wb_knobs", variant=f"rzram-{v}"):
            add(f"writeback, knob {v}", med_of(R, "wb_batch", variant="zram"),
                med_of(R, "wb_knobs", variant=f"rzram-{v}"), seqb)
    for v in ("noplug", "nocontig"):
        if R.sel("wb_frag2", variant=f"rzram-{v}"):
            add(f"writeback fragmented (2nd), knob {v}", med_of(R, "wb_frag2", variant="zram"),
                med_of(R, "wb_frag2", variant=f"rzram-{v}"), holeb)
    for c in ("rb_1m", "rb_4k", "rb_buf"):
        add(f"read-back {c}", med_of(R, c, variant="zram"), med_of(R, c, variant="rzram"),
            med_of(R, c, variant="raw"))
        if R.sel(c, variant="rzram-rbold"):
            add(f"read-back {c} (rzram rb_chain=0)", med_of(R, c, variant="zram"),
                med_of(R, c, variant="rzram-rbold"), med_of(R, c, variant="raw"))
    for qd in (1, 16):
        c = f"rb_qd{qd}"
        add(f"read-back fio randread QD{qd} (IOPS)", med_of(R, c, fio_iops, variant="zram"),
            med_of(R, c, fio_iops, variant="rzram"), med_of(R, c, fio_iops, variant="raw"),
            unit="IOPS", higher_better=True)
    add("swap-in (touch)", med_of(R, "swap_touch", variant="zram"), med_of(R, "swap_touch", variant="rzram"))
    add("swapoff", med_of(R, "swap_off", variant="zram"), med_of(R, "swap_off", variant="rzram"))
    keys = []
    for r in R.by.get("fe", []):
        k = (r["data"], r["rw"], r["bs"], r["jobs"])
        if k not in keys:
            keys.append(k)
    for data, rw, bs, nj in keys:
        kw = dict(data=data, rw=rw, bs=bs, jobs=nj)
        add(f"front-end {rw} {bs} x{nj} {data} (MB/s)", med_of(R, "fe", fio_mbps, variant="zram", **kw),
            med_of(R, "fe", fio_mbps, variant="rzram", **kw), unit="MB/s", higher_better=True)
    return rows


# ---- plots ----------------------------------------------------------------

def plots(R, outdir, cmd):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figs = []
    colors = {"zram": "#d62728", "rzram": "#1f77b4", "rzram-huge": "#17becf", "rzram-rbold": "#9467bd",
              "raw": "#7f7f7f"}

    def bars(ax, groups, variants, getter, ylabel, title, log=False):
        width = 0.8 / len(variants)
        for i, v in enumerate(variants):
            meds, lo, hi = [], [], []
            for g in groups:
                vals = getter(g, v)
                st = stat(vals) if vals else None
                meds.append(st[0] if st else 0)
                lo.append(st[0] - st[1] if st else 0)
                hi.append(st[2] - st[0] if st else 0)
            xs = [j + i * width for j in range(len(groups))]
            ax.bar(xs, meds, width, yerr=[lo, hi], capsize=3, label=v, color=colors.get(v))
        ax.set_xticks([j + width * (len(variants) - 1) / 2 for j in range(len(groups))])
        ax.set_xticklabels([g[0] for g in groups], fontsize=8)
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        if log:
            ax.set_yscale("log")
        ax.legend(fontsize=8)
        ax.grid(axis="y", alpha=0.3)

    raw_w = R.sel("raw_dd", op="write")
    raw_r = R.sel("raw_dd", op="read")

    def wbget(g, v):
        case = g[1]
        if v == "raw":
            rs = raw_w if case == "wb_seed" else (raw_r if case == "rb_seed_1m" else R.sel(case, variant="raw"))
        else:
            rs = R.sel(case, variant=v)
        return [r["usec"] / max(r.get("pages") or 1, 1) for r in rs]

    fig, ax = plt.subplots(figsize=(9, 4.5))
    groups = [("writeback\nseed", "wb_seed"), ("read-back\nseed dd 1M", "rb_seed_1m"),
              ("read-back\ndd 1M", "rb_1m"), ("read-back\ndd 4K", "rb_4k"),
              ("read-back\nbuffered", "rb_buf")]
    vs = [v for v in ("zram", "rzram", "rzram-rbold", "raw") if any(R.sel(g[1], variant=v) for g in groups) or v == "raw"]
    bars(ax, groups, vs, wbget, "µs per page (median, min-max bars; log)",
         "Writeback and read-back: zram 6.12, rzram, raw disk", log=True)
    fig.tight_layout()
    p = f"{outdir}/bench-wb-rb.png"
    fig.savefig(p, dpi=110)
    plt.close(fig)
    figs.append(("Writeback and read-back time per page", "bench-wb-rb.png"))

    fig, ax = plt.subplots(figsize=(7, 4.2))
    batches = sorted({r["batch"] for r in R.sel("wb_batch", variant="rzram") if isinstance(r["batch"], int)})
    if batches:
        m = [stat([secs(r) for r in R.sel("wb_batch", variant="rzram", batch=b)]) for b in batches]
        ax.errorbar(batches, [x[0] for x in m], yerr=[[x[0] - x[1] for x in m], [x[2] - x[0] for x in m]],
                    marker="o", capsize=3, label="rzram", color=colors["rzram"])
        z = stat([secs(r) for r in R.sel("wb_batch", variant="zram")])
        if z:
            ax.axhline(z[0], color=colors["zram"], linestyle="--", label="zram 6.12 (one page at a time)")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(batches)
        ax.set_xticklabels([str(b) for b in batches])
        ax.set_xlabel("writeback_batch_size")
        ax.set_ylabel("writeback wall time, s (log)")
        ax.set_title(f"Writeback of {R.sel('wb_batch', variant='rzram')[0]['pages']} random pages "
                     "against batch size", fontsize=10)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(f"{outdir}/bench-batch.png", dpi=110)
    plt.close(fig)
    figs.append(("Writeback time against writeback_batch_size", "bench-batch.png"))

    fig, ax = plt.subplots(figsize=(7, 4.2))
    groups = [("swap-out\n(fill)", "swap_fill"), ("writeback\nidle", "swap_wb"),
              ("swap-in\n(touch)", "swap_touch"), ("swapoff", "swap_off")]
    bars(ax, groups, ["zram", "rzram"], lambda g, v: [secs(r) for r in R.sel(g[1], variant=v)],
         "wall time, s (median, min-max bars)", "Swap-in of written-back pages")
    fig.tight_layout()
    fig.savefig(f"{outdir}/bench-swap.png", dpi=110)
    plt.close(fig)
    figs.append(("Swap-in time", "bench-swap.png"))

    if R.by.get("pk_wb"):
        colors.update({"rzram-z1": "#2ca02c", "rzram-pk": "#ff7f0e"})
        dss = sorted({r["dataset"] for r in R.by["pk_wb"]})
        fig, axs = plt.subplots(1, 3, figsize=(12, 4))
        groups = [(ds, ds) for ds in dss]
        for ax, (key, ylabel, case) in zip(axs, [
                (lambda r: r["d_w_sect"] / 2048, "MiB written to the disk", "pk_wb"),
                (lambda r: r["bd_count"], "backing blocks in use", "pk_wb"),
                (secs, "read-back s (dd 1 MiB)", "pk_rb")]):
            bars(ax, groups, list(PK_VARIANTS),
                 lambda g, v, key=key, case=case: [key(r) for r in R.sel(case, variant=v, dataset=g[1])],
                 ylabel, ylabel)
        fig.suptitle("Packed writeback: uncompressed (zram, rzram), one object a block (rzram-z1), "
                     "packed (rzram-pk)", fontsize=10)
        fig.tight_layout()
        fig.savefig(f"{outdir}/bench-pack.png", dpi=110)
        plt.close(fig)
        figs.append(("Packed writeback", "bench-pack.png"))
    return figs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", help="results.log of the guest run")
    ap.add_argument("--from", dest="from_json", help="redraw from a JSON written earlier")
    ap.add_argument("--meta", help="JSON with the host-side facts")
    ap.add_argument("--json", help="write all samples here")
    ap.add_argument("--md", help="write the Markdown report here")
    ap.add_argument("--plots", help="directory for the PNG plots")
    a = ap.parse_args()
    if a.from_json:
        with open(a.from_json) as f:
            d = json.load(f)
        samples, meta = d["samples"], d["meta"]
    else:
        samples = load_records(a.results)
        meta = {}
        if a.meta:
            with open(a.meta) as f:
                meta = json.load(f)
        if a.json:
            meta["json_name"] = a.json.split("/")[-1]
    if not samples:
        print("report: no BENCH records", file=sys.stderr)
        return 1
    if a.json and not a.from_json:
        # one sample a line: greppable, and diffs stay readable
        with open(a.json, "w") as f:
            f.write('{"meta": ' + json.dumps(meta) + ',\n"samples": [\n')
            f.write(",\n".join(json.dumps(r, separators=(",", ":")) for r in samples))
            f.write("\n]}\n")
    R = build(samples, meta)
    redraw = (f"/usr/bin/python3 scripts/bench/report.py --from docs/{meta.get('json_name', 'bench-results.json')} "
              "--md docs/benchmarks.md --plots docs")
    if a.plots:
        try:
            figs = plots(R, a.plots, meta.get("command"))
        except ImportError as e:
            print(f"report: no plots ({e})", file=sys.stderr)
            figs = []
        R.out("## Plots")
        R.out()
        for title, fn in figs:
            R.out(f"### {title}")
            R.out()
            R.out(f"![{title}]({fn})")
            R.out()
            R.out(f"Measured by `{meta.get('command', 'make bench')}`; drawn by `{redraw}`.")
            R.out()
    text = "\n".join(R.md) + "\n"
    if a.md:
        with open(a.md, "w") as f:
            f.write(text)
    print(text)
    fails = R.by.get("failure", [])
    if fails:
        print(f"report: {len(fails)} FAILED samples (wrong data or failed commands):", file=sys.stderr)
        for f_ in fails:
            print(f"  {f_.get('msg')}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
