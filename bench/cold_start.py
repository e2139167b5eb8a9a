#!/usr/bin/env python3
"""Cold start: process start to first answered invocation, and RSS, for the JVM variants.

Variants: JDK 17 fast-jar; JDK 17 fast-jar + AppCDS (Quarkus builds app-cds.jsa, from a run that only
starts); the same with C1 only + SerialGC ("tuned"); JDK 17 + a CDS archive dumped at the end of a training
run of 50 invocations, tuned; JDK 25 fast-jar; JDK 25 + AOT cache (JEP 483/515, from a training run of 50
invocations), with the JVM's defaults and tuned. The aot-jar-* variants do the trained ones on Quarkus'
aot-jar packaging (--aot-jar-app, the app's classes on the JVM class path, which the caches cover), trained
as every trained variant, by the shipped native/train-jvm-cache.sh. Each start answers one POST /v1/invocations against the fake
Messages API (no model latency) with tracing to a local MLflow.

Usage: bench/cold_start.py [--runs 5] [--app DIR[,DIR...]] [--aot-jar-app DIR] [--variants appcds,aot-tuned,...] [--jdk25 /usr/lib/jvm/temurin-25-jdk-amd64] [--out target/bench-cold-start.json]
Build first: ./mvnw -B -q package -DskipTests -Dquarkus.package.jar.appcds.enabled=true
        and  ./mvnw -B -q package -DskipTests -Dquarkus.package.jar.type=aot-jar -Dquarkus.package.output-directory=aot-app
"""
import argparse, json, os, signal, statistics, subprocess, time, urllib.request

import common
from common import ROOT, first_answer, free_port, start_fake, start_mlflow, stop_all

TICK = os.sysconf("SC_CLK_TCK")

BODY = b'{"prompt":"cold start"}'


def status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1])


def cpu_ms(pid):
    """User + system CPU the process has used so far: less disturbed by a busy machine than wall time."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / TICK


def start(java, flags, env, app):
    port = free_port()
    e = dict(env, PORT=str(port))
    t0 = time.monotonic()
    p = subprocess.Popen([java, *flags, "-jar", "quarkus-run.jar"], cwd=app, env=e,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return p, port, t0


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(30)
    except subprocess.TimeoutExpired:
        p.kill()


def measure(name, java, flags, env, runs, apps):
    """runs starts of each app; the apps take turns so that a busy machine disturbs them alike.
    flags: a function app -> JVM flags."""
    samples = {app: ([], [], [], []) for app in apps}
    for _ in range(runs):
        for app in apps:
            times, cpu, rss_idle, rss_peak = samples[app]
            p, port, t0 = start(java, flags(app), env, app)
            try:
                answer = first_answer(f"http://127.0.0.1:{port}/v1/invocations", BODY)
                times.append((time.monotonic() - t0) * 1000)
                cpu.append(cpu_ms(p.pid))
                assert answer["trace"]["export"] == "delivered", answer["trace"]
                time.sleep(2)
                rss_idle.append(status_kb(p.pid, "VmRSS") / 1024)
                rss_peak.append(status_kb(p.pid, "VmHWM") / 1024)
            finally:
                stop(p)
    rows = []
    for app, (times, cpu, rss_idle, rss_peak) in samples.items():
        row = {"variant": name, "app": app, "runs": runs, "first_answer_ms_median": round(statistics.median(times)),
               "first_answer_ms_all": [round(t) for t in times],
               "cpu_ms_at_first_answer_median": round(statistics.median(cpu)), "cpu_ms_all": [round(c) for c in cpu],
               "rss_idle_mb_median": round(statistics.median(rss_idle), 1),
               "rss_peak_mb_median": round(statistics.median(rss_peak), 1)}
        print(row, flush=True)
        rows.append(row)
    return rows


def train(java, output_flag, file, env, app, flags=()):
    """The shipped training run (native/train-jvm-cache.sh): 50 invocations answered by the in-process stand-in,
    traced to the same MLflow as the measured starts; the JVM writes the cache at exit.
    output_flag: -XX:AOTCacheOutput (JDK 25 AOT cache) or -XX:ArchiveClassesAtExit (CDS)."""
    subprocess.run(["bash", f"{ROOT}/native/train-jvm-cache.sh", os.path.abspath(app), *flags, f"{output_flag}={file}"],
                   env=dict(env, JAVA=java), check=True, stdout=subprocess.DEVNULL)
    return f"{os.path.abspath(app)}/{file}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--jdk25", default="/usr/lib/jvm/temurin-25-jdk-amd64")
    ap.add_argument("--app", default=common.APP,
                    help="a quarkus-app directory; several, comma-separated, to compare builds (starts interleaved)")
    ap.add_argument("--aot-jar-app", default=f"{ROOT}/target/aot-app",
                    help="the same build packaged as Quarkus' aot-jar, for the aot-jar-* variants (skipped if missing)")
    ap.add_argument("--variants", default="all",
                    help="comma-separated: jdk17,appcds,appcds-tuned,cds-trained-tuned,jdk25,aot,aot-tuned,"
                         "aot-jar-cds-tuned,aot-jar-aot,aot-jar-aot-tuned")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    apps = a.app.split(",")
    want = lambda v: a.variants == "all" or v in a.variants.split(",")
    procs = []
    try:
        fake_port = free_port()
        procs.append(start_fake(fake_port))
        mlflow, mlflow_url = start_mlflow("bench-mlflow-cold")
        procs.append(mlflow)
        exp = json.loads(urllib.request.urlopen(urllib.request.Request(
            f"{mlflow_url}/api/2.0/mlflow/experiments/create", data=b'{"name":"cold-start"}',
            headers={"content-type": "application/json"})).read())["experiment_id"]
        env = dict(os.environ, ANTHROPIC_BASE_URL=f"http://127.0.0.1:{fake_port}", ANTHROPIC_API_KEY="bench-key",
                   MLFLOW_TRACKING_URI=mlflow_url, MLFLOW_EXPERIMENT_ID=exp,
                   AGENTFN_TRACING_SPOOL_DIRECTORY=f"{ROOT}/target/bench-spool", QUARKUS_LOG_LEVEL="WARN",
                   # A busy machine's MLflow can answer late: wait for the delivery rather than spool the trace.
                   AGENTFN_TRACING_EXPORT_TIMEOUT="60s")
        jdk25 = f"{a.jdk25}/bin/java"
        rows = []
        cds = ["-XX:SharedArchiveFile=app-cds.jsa", "-Xshare:auto"]
        # what docs/deploy.md recommends for a small serverless instance: C1 only, serial GC
        tuned = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
        have_cds = all(os.path.exists(f"{app}/app-cds.jsa") for app in apps)
        if want("jdk17"):
            rows += measure("JDK 17 fast-jar", "java", lambda app: [], env, a.runs, apps)
        if want("appcds") and have_cds:
            rows += measure("JDK 17 fast-jar + AppCDS", "java", lambda app: cds, env, a.runs, apps)
        if want("appcds-tuned") and have_cds:
            rows += measure("JDK 17 fast-jar + AppCDS, C1 only, SerialGC", "java", lambda app: cds + tuned, env,
                            a.runs, apps)
        if want("cds-trained-tuned"):
            jsa = {app: train("java", "-XX:ArchiveClassesAtExit", "trained-cds.jsa", env, app, tuned) for app in apps}
            rows += measure("JDK 17 + CDS archive from a training run, C1 only, SerialGC", "java",
                            lambda app: [f"-XX:SharedArchiveFile={jsa[app]}"] + tuned, env, a.runs, apps)
        if os.path.exists(jdk25) and want("jdk25"):
            rows += measure("JDK 25 fast-jar", jdk25, lambda app: [], env, a.runs, apps)
        if os.path.exists(jdk25) and want("aot"):
            aot = {app: train(jdk25, "-XX:AOTCacheOutput", "app.aot", env, app) for app in apps}
            rows += measure("JDK 25 + AOT cache", jdk25, lambda app: [f"-XX:AOTCache={aot[app]}"], env, a.runs, apps)
        if os.path.exists(jdk25) and want("aot-tuned"):
            aot = {app: train(jdk25, "-XX:AOTCacheOutput", "app-tuned.aot", env, app, tuned) for app in apps}
            rows += measure("JDK 25 + AOT cache, C1 only, SerialGC", jdk25,
                            lambda app: [f"-XX:AOTCache={aot[app]}"] + tuned, env, a.runs, apps)
        aot_jar = os.path.abspath(a.aot_jar_app)
        if os.path.exists(f"{aot_jar}/quarkus-run.jar"):
            if want("aot-jar-cds-tuned"):
                jsa = train("java", "-XX:ArchiveClassesAtExit", "app-cds.jsa", env, aot_jar, tuned)
                rows += measure("JDK 17 aot-jar + CDS archive from a training run, C1 only, SerialGC", "java",
                                lambda app: [f"-XX:SharedArchiveFile={jsa}"] + tuned, env, a.runs, [aot_jar])
            if os.path.exists(jdk25) and want("aot-jar-aot"):
                cache = train(jdk25, "-XX:AOTCacheOutput", "app.aot", env, aot_jar)
                rows += measure("JDK 25 aot-jar + AOT cache", jdk25, lambda app: [f"-XX:AOTCache={cache}"], env,
                                a.runs, [aot_jar])
            if os.path.exists(jdk25) and want("aot-jar-aot-tuned"):
                cache_t = train(jdk25, "-XX:AOTCacheOutput", "app-tuned.aot", env, aot_jar, tuned)
                rows += measure("JDK 25 aot-jar + AOT cache, C1 only, SerialGC", jdk25,
                                lambda app: [f"-XX:AOTCache={cache_t}"] + tuned, env, a.runs, [aot_jar])
        result = {"machine": f"{os.cpu_count()} cores", "rows": rows}
        common.report(result, a.out)
    finally:
        stop_all(procs)

if __name__ == "__main__":
    main()
