package dev.agentfn.evaluation;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.mlflow.MlflowRest;
import dev.agentfn.mlflow.MlflowTracking;
import dev.agentfn.mlflow.MlflowTarget;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** MLflow being down is not the caller's mistake: it must not read as a bad request. */
class MlflowDatasetsUnavailableTest {

    @Test
    void anUnreachableTrackingServerIsUnavailableNotInvalid() throws IOException {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        MlflowDatasets loader = new MlflowDatasets(new MlflowTracking(MlflowRest.standalone(MlflowTarget.of("http://127.0.0.1:" + closedPort))),
                new Datasets(new ObjectMapper(), Optional.empty(), 100), 10, 100, Duration.ofSeconds(10));

        DatasetUnavailableException e = assertThrows(DatasetUnavailableException.class, () -> loader.load("qa-set", null));
        assertTrue(e.getMessage().startsWith("searching MLflow datasets failed"), e.getMessage());
        assertThrows(DatasetUnavailableException.class, () -> loader.load("d-" + "0".repeat(32), null));
    }
}
