package dev.agentfn.invocation.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.mlflow.MlflowRest;
import dev.agentfn.mlflow.MlflowTracking;
import dev.agentfn.mlflow.MlflowTarget;
import dev.agentfn.mlflow.PromptRegistry;
import dev.agentfn.testing.MlflowServer;
import dev.agentfn.testing.MlflowServerResource;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The deployment's system prompt naming a registered prompt: one MLflow says does not exist stops the start with a
 * message naming the setting; MLflow unreachable at start does not.
 */
class DeploymentPromptStartTest {

    static SystemPrompts deployment(MlflowServer server, String system) {
        MlflowTracking client = new MlflowTracking(MlflowRest.standalone(MlflowTarget.of(server.uri().toString())
                .withRequestTimeout(Duration.ofSeconds(5))));
        return new SystemPrompts(system, new Prompts(new PromptRegistry(client), Duration.ofMinutes(1),
                System::nanoTime), new ObjectMapper());
    }

    @Test
    void aPromptThatDoesNotExistIsAClearStartUpError() {
        MlflowServer server = MlflowServerResource.server();
        server.start();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> AgentBeans.onStart(null,
                AgentVersion.NONE, deployment(server, "prompts:/no-such-prompt-anywhere@production")));
        assertEquals("agentfn.agent.system-prompt: prompt prompts:/no-such-prompt-anywhere@production does not exist "
                + "in MLflow's Prompt Registry (no prompt 'no-such-prompt-anywhere' with alias 'production')",
                e.getMessage());
    }

    @Test
    void mlflowDownAtStartIsNoFailedStart() {
        MlflowServer server = MlflowServerResource.server();
        server.start();
        SystemPrompts prompts = deployment(server, "prompts:/whatever/1");
        server.stop();
        try {
            AgentBeans.onStart(null, AgentVersion.NONE, prompts); // logs a warning, throws nothing
            PromptException later = assertThrows(PromptException.class, () -> {
                try {
                    prompts.prepare(AgentVersionsToMlflowTest.conversation("hi"), java.util.Map.of()).join();
                } catch (java.util.concurrent.CompletionException c) {
                    throw c.getCause();
                }
            });
            assertEquals(PromptException.Kind.UNAVAILABLE, later.kind(), "a request is answered 503 until it loads");
            assertTrue(later.getMessage().contains("no earlier load is cached"), later.getMessage());
        } finally {
            server.start();
        }
    }

    @Test
    void referencesParseOnlyInMlflowsForms() {
        assertEquals(Optional.of(new PromptRef("support.v2-x", 3, null)), PromptRef.parse("prompts:/support.v2-x/3"));
        assertEquals(Optional.of(new PromptRef("support", null, "prod_1")), PromptRef.parse(" prompts:/support@prod_1 "));
        assertEquals(Optional.empty(), PromptRef.parse("prompts:/support"));
        assertEquals(Optional.empty(), PromptRef.parse("prompts:/sup port/1"));
        assertTrue(PromptRef.looksLikeReference("prompts:/sup port/1"), "refused as a malformed reference, not sent as text");
    }
}
