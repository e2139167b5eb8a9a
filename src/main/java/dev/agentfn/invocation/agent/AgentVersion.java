package dev.agentfn.invocation.agent;

import dev.agentfn.Futures;
import dev.agentfn.mlflow.LoggedModels;
import dev.agentfn.mlflow.MlflowExperiment;
import dev.agentfn.mlflow.MlflowKeys;
import dev.agentfn.tracing.ActiveTrace;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.jboss.logging.Logger;

/**
 * This deployment's MLflow logged model, MLflow's "agent version": found or created at start the way
 * {@code mlflow.set_active_model(name=…)} does, and written on every trace as {@code mlflow.modelId}. The version's
 * identity is a digest over what changes the agent's behaviour ({@link #identity}), so two deployments that differ
 * in any of it land under two versions and the same deployment restarted lands under the same one.
 *
 * <p>MLflow unreachable: invocations run anyway. Their traces carry
 * {@link MlflowKeys.Metadata#AGENT_VERSION_MISSING} saying why, and the lookup is tried again (at most every
 * {@code retryInterval}) until MLflow answers; later traces are linked.
 */
public final class AgentVersion {
    private static final Logger LOG = Logger.getLogger(AgentVersion.class);
    /** What {@code create_external_model} marks an agent living outside MLflow with. */
    static final String IS_EXTERNAL_TAG = "mlflow.model.isExternal";
    static final String MODEL_TYPE = "agent";
    /** MLflow's limit of a logged model param value (as of a run param). */
    private static final int MAX_PARAM = 6000;

    /** No MLflow: nothing to link, nothing to say. */
    public static final AgentVersion NONE = new AgentVersion(null, null, "agentfn", Map.of(), Duration.ZERO,
            System::nanoTime);

    private final LoggedModels models;
    private final MlflowExperiment experiment;
    private final String baseName;
    private final String name;
    private final Map<String, String> identity;
    private final String digest;
    private final long retryNanos;
    private final LongSupplier nanoClock;
    private final AtomicReference<State> state = new AtomicReference<>(new State(null, "not looked up yet", null, 0));

    /** The lookup's latest result: the model id, or why there is none; {@code attempt} while one is in flight. */
    private record State(String modelId, String missing, CompletableFuture<Void> attempt, long triedNanos) {
    }

    /**
     * @param identity what the version is, as the logged model's params (sorted; its digest names the version)
     * @param models null without MLflow
     */
    public AgentVersion(LoggedModels models, MlflowExperiment experiment, String baseName, Map<String, String> identity,
            Duration retryInterval, LongSupplier nanoClock) {
        this.models = models;
        this.experiment = experiment;
        this.baseName = baseName;
        this.identity = Map.copyOf(new TreeMap<>(identity));
        this.digest = sha256(canonical(identity));
        String label = identity.get("label");
        this.name = baseName + "-" + (label == null || label.isBlank() ? "" : label + "-") + digest.substring(0, 10);
        this.retryNanos = retryInterval.toNanos();
        this.nanoClock = nanoClock;
    }

    /**
     * The identity of a deployment: everything that changes what the agent does, as the version's params.
     *
     * @param systemPrompt the text or the {@code prompts:/} reference (an alias stays one version: moving it is
     *     visible per trace through the linked prompt version)
     */
    public static Map<String, String> identity(String agentfnVersion, String label, String defaultModel,
            String systemPrompt, Iterable<String> toolNames, String toolDefinitions, Map<String, String> engineSettings) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("agentfn_version", agentfnVersion);
        if (label != null && !label.isBlank()) {
            p.put("label", label);
        }
        p.put("default_model", defaultModel);
        p.put("system_prompt", systemPrompt == null ? "" : systemPrompt);
        p.put("tools", String.join(",", toolNames));
        p.put("tools_digest", sha256(toolDefinitions).substring(0, 16));
        engineSettings.forEach((k, v) -> p.put("engine." + k, v));
        return p;
    }

    /** The logged model's name: {@code <name>-[<label>-]<digest>}. */
    public String name() {
        return name;
    }

    public String digest() {
        return digest;
    }

    /** The model id once MLflow answered. */
    public Optional<String> modelId() {
        return Optional.ofNullable(state.get().modelId());
    }

    /**
     * Completes when the current lookup finished (either way), at once when none is in flight. Invocations wait for
     * the first lookup at start, so the first traces are linked too; never fails.
     */
    public CompletableFuture<Void> settled() {
        State s = state.get();
        return s.attempt() == null ? CompletableFuture.completedFuture(null) : s.attempt();
    }

    /** Starts the lookup (at start; again when due). */
    public CompletableFuture<Void> resolve() {
        if (models == null) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> mine = new CompletableFuture<>();
        State before = state.get();
        if (before.modelId() != null || before.attempt() != null
                || !state.compareAndSet(before, new State(null, before.missing(), mine, nanoClock.getAsLong()))) {
            return settled();
        }
        experiment.id().thenCompose(exp -> models.findByName(exp, name)
                .thenCompose(found -> found.map(CompletableFuture::completedFuture).orElseGet(() -> {
                    LOG.infof("Creating MLflow agent version %s (logged model)", name);
                    return models.create(exp, name, MODEL_TYPE, params(), tags());
                })))
                .whenComplete((model, err) -> {
                    long now = nanoClock.getAsLong();
                    if (err == null) {
                        LOG.infof("Agent version %s is MLflow logged model %s", name, model.modelId());
                        state.set(new State(model.modelId(), null, null, now));
                    } else {
                        String why = "MLflow could not be reached to find or create agent version " + name + " ("
                                + Futures.unwrap(err).getMessage() + ")";
                        LOG.warn(why + "; traces say so until it can");
                        state.set(new State(null, why, null, now));
                    }
                    mine.complete(null);
                });
        return mine;
    }

    /** Writes the link (or why it is missing) on the trace; asks MLflow again when a retry is due. */
    public void stamp(ActiveTrace trace) {
        if (models == null) {
            return;
        }
        State s = state.get();
        if (s.modelId() != null) {
            trace.metadata(MlflowKeys.Metadata.MODEL_ID, s.modelId());
            return;
        }
        trace.metadata(MlflowKeys.Metadata.AGENT_VERSION_MISSING, s.missing());
        if (s.attempt() == null && nanoClock.getAsLong() - s.triedNanos() >= retryNanos) {
            resolve();
        }
    }

    /** Params as MLflow shows them; a value past MLflow's limit is cut (the digest covers all of it). */
    Map<String, String> params() {
        Map<String, String> p = new TreeMap<>();
        identity.forEach((k, v) -> p.put(k, v.length() > MAX_PARAM ? v.substring(0, MAX_PARAM - 1) + "…" : v));
        return p;
    }

    Map<String, String> tags() {
        Map<String, String> t = new TreeMap<>();
        t.put(IS_EXTERNAL_TAG, "true");
        t.put(MlflowKeys.LoggedModelTag.AGENT, baseName);
        t.put(MlflowKeys.LoggedModelTag.DIGEST, digest);
        String label = identity.get("label");
        if (label != null) {
            t.put(MlflowKeys.LoggedModelTag.LABEL, label);
        }
        return t;
    }

    private static String canonical(Map<String, String> identity) {
        StringBuilder sb = new StringBuilder();
        new TreeMap<>(identity).forEach((k, v) -> sb.append(k).append('=').append(v.length()).append(':').append(v)
                .append('\n'));
        return sb.toString();
    }

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
