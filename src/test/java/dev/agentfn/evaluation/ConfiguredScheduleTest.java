package dev.agentfn.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.agentfn.standin.FakeTurn;
import dev.agentfn.testing.FakeAnthropicResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The schedule users configure in properties is registered at start (EvaluateCommandTest registers one by hand). */
@QuarkusTest
@TestProfile(ConfiguredScheduleTest.Cron.class)
class ConfiguredScheduleTest {
    public static final class Cron implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("agentfn.evaluation.schedule.cron", "0/1 * * * * ?",
                    "agentfn.evaluation.schedule.request", "{\"name\":\"configured-cron\",\"dataset\":{\"rows\":"
                            + "[{\"inputs\":{\"prompt\":\"Hi\"}}]},\"scorers\":[\"no_error\"]}");
        }
    }

    @Inject
    EvaluationSchedule schedule;

    @Test
    void theConfiguredCronStartsTheConfiguredEvaluation() throws Exception {
        FakeAnthropicResource.fake().enqueue(FakeTurn.text("scheduled answer"));
        EvaluationRun run;
        long until = System.currentTimeMillis() + 30_000;
        while ((run = schedule.last()) == null && System.currentTimeMillis() < until) {
            Thread.sleep(100);
        }
        assertNotNull(run, "the configured schedule fired");
        assertEquals(EvaluationRun.Status.FINISHED, run.settled().get().status());
        assertEquals(1, run.totalRows());
    }
}
