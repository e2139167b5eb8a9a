package dev.agentfn.invocation.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.mlflow.LoggedModels;
import dev.agentfn.mlflow.MlflowRest;
import dev.agentfn.mlflow.MlflowTracking;
import dev.agentfn.mlflow.MlflowExperiment;
import dev.agentfn.mlflow.MlflowKeys;
import dev.agentfn.mlflow.MlflowTarget;
import dev.agentfn.mlflow.entities.TraceInfo;
import dev.agentfn.tracing.ActiveTrace;
import dev.agentfn.tracing.AttributePolicy;
import dev.agentfn.tracing.SpanClock;
import dev.agentfn.tracing.Tracer;
import dev.agentfn.testing.MlflowPython;
import dev.agentfn.testing.MlflowServer;
import dev.agentfn.testing.MlflowServerResource;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * MLflow down when the deployment starts: the lookup fails without failing anything, traces say why they have no
 * version, and once MLflow is back (and the retry interval passed) the next traces are linked.
 */
class AgentVersionOutageTest {
    final Tracer tracer = new Tracer(SpanClock.SYSTEM, new AttributePolicy(true, 10_000, List.of(), List.of()), false);

    TraceInfo stamped(AgentVersion version) {
        ActiveTrace t = tracer.start("agent_invocation", MlflowKeys.SpanType.AGENT, Optional.empty());
        version.stamp(t);
        return t.finish().info();
    }

    @Test
    void downAtStartThenBackLinksLaterTraces() {
        MlflowServer server = MlflowServerResource.server();
        server.start();
        String experiment = server.createExperiment("agent-version-outage-" + UUID.randomUUID());
        MlflowTracking client = new MlflowTracking(MlflowRest.standalone(MlflowTarget.of(server.uri().toString())
                .withRequestTimeout(Duration.ofSeconds(5))));
        AtomicLong now = new AtomicLong();
        AgentVersion version = new AgentVersion(new LoggedModels(client), new MlflowExperiment(client, experiment, null),
                "outage", AgentVersion.identity("test", "r1", "claude-sonnet-5-5", "Be brief.", List.of(), "[]", Map.of()),
                Duration.ofSeconds(30), now::get);

        server.stop();
        try {
            version.resolve().join();
            assertTrue(version.modelId().isEmpty());
            TraceInfo during = stamped(version);
            assertFalse(during.metadata().containsKey(MlflowKeys.Metadata.MODEL_ID));
            String why = during.metadata().get(MlflowKeys.Metadata.AGENT_VERSION_MISSING);
            assertTrue(why != null && why.startsWith("MLflow could not be reached to find or create agent version "
                    + version.name()), String.valueOf(why));
        } finally {
            server.start();
        }

        TraceInfo beforeRetryIsDue = stamped(version);
        version.settled().join();
        assertTrue(version.modelId().isEmpty(), "no lookup before the retry interval passed");
        assertTrue(beforeRetryIsDue.metadata().containsKey(MlflowKeys.Metadata.AGENT_VERSION_MISSING));

        now.addAndGet(Duration.ofSeconds(30).toNanos());
        stamped(version); // due: this one still says why, and starts the lookup
        version.settled().join();
        TraceInfo after = stamped(version);
        String modelId = after.metadata().get(MlflowKeys.Metadata.MODEL_ID);
        assertTrue(modelId != null && modelId.startsWith("m-"), after.metadata().toString());
        assertFalse(after.metadata().containsKey(MlflowKeys.Metadata.AGENT_VERSION_MISSING));

        JsonNode model = new MlflowPython(server).json("""
                import mlflow, json
                m = mlflow.get_logged_model("%s")
                print(json.dumps({"name": m.name, "experiment": m.experiment_id, "prompt": m.params.get("system_prompt")}))
                """.formatted(modelId));
        assertEquals(version.name(), model.get("name").asText());
        assertTrue(version.name().startsWith("outage-r1-"), version.name());
        assertEquals(experiment, model.get("experiment").asText());
        assertEquals("Be brief.", model.get("prompt").asText());

        AgentVersion restarted = new AgentVersion(new LoggedModels(client), new MlflowExperiment(client, experiment, null),
                "outage", AgentVersion.identity("test", "r1", "claude-sonnet-5-5", "Be brief.", List.of(), "[]", Map.of()),
                Duration.ofSeconds(30), now::get);
        restarted.resolve().join();
        assertEquals(modelId, restarted.modelId().orElseThrow(), "the same deployment restarted is the same version");
    }
}
