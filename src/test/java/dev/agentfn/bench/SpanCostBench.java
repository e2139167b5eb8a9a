package dev.agentfn.bench;

import dev.agentfn.mlflow.MlflowKeys;
import dev.agentfn.tracing.ActiveTrace;
import dev.agentfn.tracing.AttributePolicy;
import dev.agentfn.tracing.SpanClock;
import dev.agentfn.tracing.Tracer;
import java.util.List;
import java.util.Optional;

/**
 * In-process cost of recording one span (start, typical CHAT_MODEL attributes through redaction and
 * capping, end), plus its share of finishing the trace. Usage: bench/export.sh runs it too.
 */
public final class SpanCostBench {
    public static void main(String[] args) {
        int spans = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
        // one configured redaction pattern and one secret, as a typical deployment has
        Tracer tracer = new Tracer(SpanClock.SYSTEM,
                new AttributePolicy(true, 65536, List.of("\\b\\d{16}\\b"), List.of("sk-ant-some-configured-key")), false);
        run(tracer, spans / 4); // warm-up
        long t0 = System.nanoTime();
        run(tracer, spans);
        double perSpanUs = (System.nanoTime() - t0) / 1e3 / spans;
        System.out.printf("{\"spans\":%d,\"per_span_us\":%.2f}%n", spans, perSpanUs);
    }

    private static void run(Tracer tracer, int spans) {
        int perTrace = 10;
        for (int i = 0; i < spans / perTrace; i++) {
            ActiveTrace trace = tracer.start("agent_invocation", MlflowKeys.SpanType.AGENT, Optional.empty());
            for (int j = 0; j < perTrace - 1; j++) {
                SampleTraces.chatSpan(trace);
            }
            trace.finish();
        }
    }
}
