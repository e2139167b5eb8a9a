package dev.agentfn.api;

import dev.agentfn.conversation.ConversationResult;
import dev.agentfn.tracing.export.ExportStatus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;

/** Invocations, latency, tokens, cost, upstream errors and trace exports, by model and engine. */
public final class InvocationMetrics {
    private final MeterRegistry registry;

    public InvocationMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    void success(String engine, ConversationResult r, long millis, ExportStatus export) {
        String model = r.model() == null ? "unknown" : r.model();
        Counter.builder("agentfn.invocations").tag("engine", engine).tag("model", model).tag("outcome", "success")
                .register(registry).increment();
        Timer.builder("agentfn.invocation.duration").tag("engine", engine).tag("model", model)
                .publishPercentileHistogram().register(registry).record(Duration.ofMillis(millis));
        tokens(engine, model, "input", r.usage().inputTokens());
        tokens(engine, model, "output", r.usage().outputTokens());
        tokens(engine, model, "cache_read", r.usage().cacheReadInputTokens());
        tokens(engine, model, "cache_creation", r.usage().cacheCreationInputTokens());
        Counter.builder("agentfn.cost.usd").tag("engine", engine).tag("model", model).register(registry)
                .increment(r.cost().totalUsd());
        export(export);
    }

    void failure(String engine, String model, int status, String errorType, ExportStatus export) {
        Counter.builder("agentfn.invocations").tag("engine", engine).tag("model", model).tag("outcome", "error")
                .register(registry).increment();
        Counter.builder("agentfn.upstream.errors").tag("engine", engine).tag("model", model)
                .tag("status", Integer.toString(status)).tag("type", errorType).register(registry).increment();
        export(export);
    }

    private void tokens(String engine, String model, String type, long n) {
        Counter.builder("agentfn.tokens").tag("engine", engine).tag("model", model).tag("type", type)
                .register(registry).increment(n);
    }

    private void export(ExportStatus status) {
        Counter.builder("agentfn.trace.exports").tag("status", status.wireName()).register(registry).increment();
    }
}
