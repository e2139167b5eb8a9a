package dev.agentfn.invocation;

import dev.agentfn.conversation.ConversationResult;
import dev.agentfn.tracing.export.ExportStatus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Invocations, latency, tokens, cost, upstream errors and trace exports, by model and engine. Meters are
 * looked up once per tag set and kept: building and registering them on every invocation cost more CPU
 * than the recording itself.
 */
public final class InvocationMetrics {
    private final MeterRegistry registry;
    private final Map<List<String>, Success> success = new ConcurrentHashMap<>();
    private final Map<List<String>, Counter> failures = new ConcurrentHashMap<>();
    private final Map<ExportStatus, Counter> exports = new ConcurrentHashMap<>();

    public InvocationMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** The meters of one successful (engine, model). */
    private record Success(Counter invocations, Timer duration, Counter input, Counter output, Counter cacheRead,
            Counter cacheCreation, Counter cost) {
    }

    void success(String engine, ConversationResult r, long millis, ExportStatus export) {
        String model = r.model() == null ? "unknown" : r.model();
        Success m = success.computeIfAbsent(List.of(engine, model), k -> new Success(
                Counter.builder("agentfn.invocations").tag("engine", engine).tag("model", model)
                        .tag("outcome", "success").register(registry),
                Timer.builder("agentfn.invocation.duration").tag("engine", engine).tag("model", model)
                        .publishPercentileHistogram().register(registry),
                tokens(engine, model, "input"), tokens(engine, model, "output"), tokens(engine, model, "cache_read"),
                tokens(engine, model, "cache_creation"),
                Counter.builder("agentfn.cost.usd").tag("engine", engine).tag("model", model).register(registry)));
        m.invocations.increment();
        m.duration.record(Duration.ofMillis(millis));
        m.input.increment(r.usage().inputTokens());
        m.output.increment(r.usage().outputTokens());
        m.cacheRead.increment(r.usage().cacheReadInputTokens());
        m.cacheCreation.increment(r.usage().cacheCreationInputTokens());
        m.cost.increment(r.cost().totalUsd());
        export(export);
    }

    /** {@code agentfn.upstream.errors} counts failures by the status answered and the error type. */
    void failure(String engine, String modelOrNull, Failure failure, ExportStatus export) {
        String model = modelOrNull == null ? "unknown" : modelOrNull;
        String errorType = failure.type() == null ? "unknown" : failure.type();
        String s = Integer.toString(failure.status());
        failures.computeIfAbsent(List.of(engine, model, "invocations"), k -> Counter.builder("agentfn.invocations")
                .tag("engine", engine).tag("model", model).tag("outcome", "error").register(registry)).increment();
        failures.computeIfAbsent(List.of(engine, model, s, errorType), k -> Counter.builder("agentfn.upstream.errors")
                .tag("engine", engine).tag("model", model).tag("status", s).tag("type", errorType).register(registry))
                .increment();
        export(export);
    }

    private Counter tokens(String engine, String model, String type) {
        return Counter.builder("agentfn.tokens").tag("engine", engine).tag("model", model).tag("type", type)
                .register(registry);
    }

    private void export(ExportStatus status) {
        exports.computeIfAbsent(status, k -> Counter.builder("agentfn.trace.exports").tag("status", k.wireName())
                .register(registry)).increment();
    }
}
