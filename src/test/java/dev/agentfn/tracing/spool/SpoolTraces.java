package dev.agentfn.tracing.spool;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.mlflow.MlflowKeys;
import dev.agentfn.mlflow.entities.Trace;
import dev.agentfn.tracing.ActiveTrace;
import dev.agentfn.tracing.AttributePolicy;
import dev.agentfn.tracing.Tracer;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/** Small finished traces whose request times step by one second, so spool order is predictable. */
final class SpoolTraces {
    static final TraceCodec CODEC = new TraceCodec(new ObjectMapper());
    static final String DESTINATION = "http://127.0.0.1:5000 experiment_id=1";
    private final AtomicLong now = new AtomicLong(1_700_000_000_000_000_000L);
    private final Tracer tracer = new Tracer(() -> now.getAndAdd(1_000_000_000L),
            new AttributePolicy(true, 65536, List.of(), List.of()), false);

    Trace next(String prompt) {
        ActiveTrace t = tracer.start("agent_invocation", MlflowKeys.SpanType.AGENT, Optional.empty());
        t.root().inputs(Map.of("prompt", prompt)).outputs(Map.of("response", "ok"));
        return t.finish();
    }
}
