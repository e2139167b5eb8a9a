package dev.agentfn.bench;

import dev.agentfn.mlflow.MlflowRest;
import dev.agentfn.mlflow.MlflowTraceClient;
import dev.agentfn.mlflow.MlflowTracking;
import dev.agentfn.mlflow.MlflowExperiment;
import dev.agentfn.mlflow.MlflowKeys;
import dev.agentfn.mlflow.MlflowTarget;
import dev.agentfn.mlflow.entities.Trace;
import dev.agentfn.testing.MlflowServer;
import dev.agentfn.tracing.ActiveTrace;
import dev.agentfn.tracing.AttributePolicy;
import dev.agentfn.tracing.LiveSpan;
import dev.agentfn.tracing.SpanClock;
import dev.agentfn.tracing.Tracer;
import dev.agentfn.tracing.export.ExportResult;
import dev.agentfn.tracing.export.MlflowTraceExporter;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Time the export adds to an invocation (OTLP spans and StartTraceV3 in flight together) against
 * one StartTraceV3 round trip alone, on the same local MLflow server, interleaved so both see the
 * same conditions. Usage: bench/export.sh [rounds] [spans] (SQLite, one worker) or
 * bench/export.sh --postgres [rounds] [spans] (PostgreSQL, {@code -Dbench.workers} workers).
 */
public final class ExportBench {
    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 300;
        Tracer tracer = new Tracer(SpanClock.SYSTEM, new AttributePolicy(true, 65536, List.of(), List.of()), false);
        String backend = System.getProperty("bench.backend-uri", "");
        int workers = Integer.getInteger("bench.workers", 1);
        System.err.println("MLflow backend: " + (backend.isEmpty() ? "sqlite" : backend.replaceAll("//[^@]*@", "//"))
                + ", workers: " + workers);
        try (MlflowServer server = backend.isEmpty() ? MlflowServer.startSqlite()
                : MlflowServer.startWithBackend(backend, workers)) {
            String experiment = server.createExperiment("export-bench");
            MlflowRest rest = MlflowRest.standalone(MlflowTarget.of(server.uri().toString()));
            MlflowTraceClient client = new MlflowTraceClient(rest);
            MlflowTraceExporter exporter = new MlflowTraceExporter(client,
                    new MlflowExperiment(new MlflowTracking(rest), experiment, null));
            for (int i = 0; i < 30; i++) {
                once(tracer, exporter, client, experiment);
            }
            long[] export = new long[rounds];
            long[] startTrace = new long[rounds];
            long[] otlp = new long[rounds];
            for (int i = 0; i < rounds; i++) {
                long[] r = once(tracer, exporter, client, experiment);
                export[i] = r[0];
                startTrace[i] = r[1];
                otlp[i] = r[2];
            }
            Stats e = Stats.ofNanos(export);
            Stats s = Stats.ofNanos(startTrace);
            Stats o = Stats.ofNanos(otlp);
            System.out.printf("{\"rounds\":%d,\"export_p50_ms\":%.2f,\"export_p99_ms\":%.2f,"
                    + "\"start_trace_p50_ms\":%.2f,\"start_trace_p99_ms\":%.2f,\"otlp_alone_p50_ms\":%.2f,"
                    + "\"otlp_alone_p99_ms\":%.2f,\"ratio_p50\":%.2f,\"ratio_p99\":%.2f}%n",
                    rounds, e.p50(), e.p99(), s.p50(), s.p99(), o.p50(), o.p99(), e.p50() / s.p50(), e.p99() / s.p99());
        }
    }

    private static long[] once(Tracer tracer, MlflowTraceExporter exporter, MlflowTraceClient client, String experiment) {
        Trace full = SampleTraces.invocation(tracer);
        long t0 = System.nanoTime();
        ExportResult r = exporter.export(full).join();
        long export = System.nanoTime() - t0;
        if (!r.delivered()) {
            throw new IllegalStateException("export failed: " + r.detail());
        }
        Trace other = SampleTraces.invocation(tracer);
        long t1 = System.nanoTime();
        client.startTraceV3(other.info().withExperimentId(experiment)).join();
        long startTrace = System.nanoTime() - t1;
        Trace third = SampleTraces.invocation(tracer);
        long t2 = System.nanoTime();
        client.logSpansOtlp(experiment, null, third.spans()).join();
        return new long[] {export, startTrace, System.nanoTime() - t2};
    }
}
