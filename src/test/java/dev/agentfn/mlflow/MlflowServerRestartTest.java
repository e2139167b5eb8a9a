package dev.agentfn.mlflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfn.mlflow.entities.Trace;
import dev.agentfn.testing.MlflowServer;
import dev.agentfn.testing.MlflowServerResource;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The harness can take MLflow down and bring it back on the same port with the same data. */
class MlflowServerRestartTest {

    @Test
    void writesFailRetryablyWhileDownAndSucceedAfterRestart() throws Exception {
        MlflowServerResource resource = new MlflowServerResource();
        Map<String, String> config = resource.start();
        MlflowServer server = MlflowServerResource.server();
        String experimentId = config.get(MlflowServerResource.EXPERIMENT_ID);
        assertEquals(server.uri().toString(), config.get(MlflowServerResource.TRACKING_URI));
        MlflowRest rest = MlflowRest.standalone(MlflowTarget.of(server.uri().toString()));
        MlflowTraceClient traces = new MlflowTraceClient(rest);
        MlflowTracking tracking = new MlflowTracking(rest);
        MlflowTraceWriter writer = new MlflowTraceWriter(traces);
        Trace before = Fixtures.agentTrace(experimentId);
        assertTrue(writer.write(before).get(60, TimeUnit.SECONDS).delivered());

        URI uri = server.uri();
        Trace during = Fixtures.agentTrace(experimentId);
        try {
            server.stop();
            assertFalse(server.isRunning());
            WriteOutcome down = writer.write(during).get(60, TimeUnit.SECONDS);
            assertFalse(down.delivered());
            assertTrue(down.retryable(), down.reason());
        } finally {
            server.start();
        }
        assertEquals(uri, server.uri(), "same port after restart");
        WriteOutcome retried = writer.write(during).get(60, TimeUnit.SECONDS);
        assertTrue(retried.delivered(), retried.reason());
        assertTrue(tracking.getTraceInfo(before.info().traceId()).get(30, TimeUnit.SECONDS).isPresent(),
                "data written before the restart is still there");
        assertEquals(experimentId, tracking.getTraceInfo(during.info().traceId()).get(30, TimeUnit.SECONDS)
                .orElseThrow().path("trace_location").path("mlflow_experiment").path("experiment_id").asText());
    }
}
