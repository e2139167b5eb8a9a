package dev.agentfn.tracing.spool;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.mlflow.MlflowKeys;
import dev.agentfn.mlflow.entities.Trace;
import dev.agentfn.mlflow.entities.TraceInfo;
import dev.agentfn.mlflow.entities.TraceState;
import dev.agentfn.tracing.ActiveTrace;
import dev.agentfn.tracing.AttributePolicy;
import dev.agentfn.tracing.SpanClock;
import dev.agentfn.tracing.Tracer;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/** Small finished traces whose request times step by one second, so spool order is predictable. */
public final class SpoolTraces {
    static final TraceCodec CODEC = new TraceCodec(new ObjectMapper());
    static final String DESTINATION = "http://127.0.0.1:5000 experiment_id=1";
    private final AtomicLong now = new AtomicLong(1_700_000_000_000_000_000L);
    private final Tracer tracer = new Tracer(() -> now.getAndAdd(1_000_000_000L),
            new AttributePolicy(true, 65536, List.of(), List.of()), false);

    /**
     * The two writes of one gateway-like turn: the first holds the root (unfinished, no answer) and the first model
     * call and says IN_PROGRESS; the second holds the root with the answer and the second call, says OK, and lacks
     * the first write's {@code first.only} metadata.
     */
    public static List<Trace> turnWrites(String otelTraceId) {
        Tracer tracer = new Tracer(SpanClock.SYSTEM, new AttributePolicy(true, 65536, List.of(), List.of()), false);
        long start = 1_700_000_000_000_000_000L;
        ActiveTrace first = tracer.resume(otelTraceId, "00000000000000a1", "turn", MlflowKeys.SpanType.AGENT, start);
        first.startSpanWithId("00000000000000b1", "llm", MlflowKeys.SpanType.LLM, "00000000000000a1", start).endAt(start + 10);
        first.metadata("first.only", "kept").metadata("changes", "first");
        Trace w1 = first.finish();
        TraceInfo i = w1.info();
        w1 = w1.withInfo(new TraceInfo(i.traceId(), i.experimentId(), i.clientRequestId(), i.requestTimeMillis(),
                i.executionDurationMillis(), TraceState.IN_PROGRESS, "the prompt", "", i.metadata(), i.tags()));
        ActiveTrace second = tracer.resume(otelTraceId, "00000000000000a1", "turn", MlflowKeys.SpanType.AGENT, start);
        second.startSpanWithId("00000000000000b2", "llm", MlflowKeys.SpanType.LLM, "00000000000000a1", start + 20)
                .endAt(start + 30);
        second.root().outputs(Map.of("response", "the answer"));
        second.metadata("changes", "second");
        return List.of(w1, second.finish());
    }

    Trace next(String prompt) {
        ActiveTrace t = tracer.start("agent_invocation", MlflowKeys.SpanType.AGENT, Optional.empty());
        t.root().inputs(Map.of("prompt", prompt)).outputs(Map.of("response", "ok"));
        return t.finish();
    }
}
