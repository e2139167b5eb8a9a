package dev.agentfn.invocation.agent;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.agentfn.config.Secrets;
import dev.agentfn.conversation.ConversationListener;
import dev.agentfn.conversation.ConversationRequest;
import dev.agentfn.conversation.Deadline;
import dev.agentfn.conversation.messages.MessagesEngine;
import dev.agentfn.evaluation.EvaluationToMlflowTest;
import dev.agentfn.evaluation.SeedExampleTest;
import dev.agentfn.testing.FakeOpenAiResource;
import dev.agentfn.testing.FakeOpenAiServer;
import dev.agentfn.invocation.Invocation;
import dev.agentfn.invocation.InvocationMetrics;
import dev.agentfn.invocation.InvocationOutcome;
import dev.agentfn.invocation.InvocationStage;
import dev.agentfn.mlflow.LoggedModels;
import dev.agentfn.mlflow.MlflowAccess;
import dev.agentfn.mlflow.PromptRegistry;
import dev.agentfn.standin.FakeAnthropicServer;
import dev.agentfn.standin.FakeTurn;
import dev.agentfn.standin.RecordedRequest;
import dev.agentfn.testing.FakeAnthropicResource;
import dev.agentfn.testing.MlflowPython;
import dev.agentfn.testing.MlflowServer;
import dev.agentfn.testing.MlflowServerResource;
import dev.agentfn.tracing.TraceDelivery;
import dev.agentfn.tracing.Tracer;
import dev.agentfn.tracing.spool.SpoolDrainer;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Agent versions and registered prompts as MLflow shows them, read back with MLflow's Python client: traces of two
 * deployments under two logged models, evaluation runs linked to the version, prompt aliases moved without a
 * restart, and the exact request the Messages API received each time.
 */
@QuarkusTest
@TestProfile(AgentVersionsToMlflowTest.DeploymentA.class)
class AgentVersionsToMlflowTest {
    static final String SYSTEM_A = "You are deployment A. Answer in one word.";
    static final String SYSTEM_B = "You are deployment B. Answer in French.";

    /** Deployment A: its system prompt from configuration, a label, and a prompt cache that expires at once. */
    public static class DeploymentA implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("agentfn.agent.system-prompt", SYSTEM_A, "agentfn.agent.label", "build-a",
                    "agentfn.agent.prompt-cache-ttl", "1ms");
        }
    }

    FakeAnthropicServer fake = FakeAnthropicResource.fake();
    MlflowPython python = new MlflowPython(MlflowServerResource.server());
    final ObjectMapper json = new ObjectMapper();

    @Inject
    MessagesEngine messages;
    @Inject
    Tracer tracer;
    @Inject
    TraceDelivery delivery;
    @Inject
    MlflowAccess mlflow;
    @Inject
    Secrets secrets;
    @Inject
    MeterRegistry registry;
    @Inject
    AgentVersion deployed;
    @Inject
    SpoolDrainer drainer;

    @BeforeEach
    void reset() {
        fake.reset();
    }

    /** Deployment B: the same code and MLflow, configured with another system prompt (so another version). */
    InvocationStage deploymentB() {
        Map<String, String> identity = AgentVersion.identity("test", null, "claude-sonnet-5-5", SYSTEM_B,
                List.of(), "[]", Map.of());
        AgentVersion version = new AgentVersion(new LoggedModels(mlflow.tracking()), mlflow.experiment(), "agentfn",
                identity, Duration.ofSeconds(30), System::nanoTime);
        version.resolve().join();
        SystemPrompts prompts = new SystemPrompts(SYSTEM_B, new Prompts(new PromptRegistry(mlflow.tracking()),
                Duration.ofMinutes(1), System::nanoTime), json);
        return new InvocationStage(Map.of(messages.name(), messages), tracer, delivery,
                new InvocationMetrics(registry), "test", false, json, secrets, version, prompts,
                new PromptRegistry(mlflow.tracking()));
    }

    static ConversationRequest conversation(String prompt) {
        return new ConversationRequest(List.of(JsonNodeFactory.instance.objectNode().put("role", "user")
                .put("content", prompt)), null, "claude-sonnet-5-5", 256, 3, List.of(), null, null,
                Deadline.after(Duration.ofSeconds(20)));
    }

    /** The {@code system} of the latest request the fake Messages API received. */
    JsonNode lastSystem() throws Exception {
        List<RecordedRequest> sent = fake.messageRequests();
        assertFalse(sent.isEmpty(), "the Messages API received nothing");
        return json.readTree(sent.get(sent.size() - 1).body()).path("system");
    }

    String invoke(String body) {
        fake.enqueue(FakeTurn.text("ok"));
        return given().contentType("application/json").body(body).when().post("/v1/invocations").then()
                .statusCode(200).body("trace.export", equalTo("delivered")).extract().path("trace.id");
    }

    JsonNode traceInfo(String traceId) {
        return python.json("""
                import mlflow, json
                t = mlflow.get_trace("%s")
                print(json.dumps({"metadata": t.info.trace_metadata, "tags": t.info.tags}))
                """.formatted(traceId));
    }

    @Test
    void twoDeploymentsWithDifferentSystemPromptsLandUnderTwoVersionsThatSearchTracesTellsApart() throws Exception {
        String traceA = invoke("{\"prompt\":\"Capital of France?\"}");
        assertEquals(SYSTEM_A, lastSystem().asText(), "deployment A sends its configured system prompt");

        fake.enqueue(FakeTurn.text("Paris."));
        InvocationOutcome b = deploymentB().start(new Invocation(conversation("Capital of France?"), "messages",
                "Capital of France?", Map.of(), null, null), ConversationListener.NONE).outcome().get(30, TimeUnit.SECONDS);
        assertEquals(SYSTEM_B, lastSystem().asText(), "deployment B sends its own");
        String traceB = b.traceId();

        String modelA = traceInfo(traceA).at("/metadata/mlflow.modelId").asText();
        String modelB = traceInfo(traceB).at("/metadata/mlflow.modelId").asText();
        assertTrue(modelA.startsWith("m-"), "trace A names a logged model: " + modelA);
        assertTrue(modelB.startsWith("m-"), "trace B names a logged model: " + modelB);
        assertNotEquals(modelA, modelB, "two system prompts are two versions");
        assertEquals(deployed.modelId().orElseThrow(), modelA);

        JsonNode read = python.json("""
                import mlflow, json
                exp = "%s"
                def ids(model_id):
                    return [t.info.trace_id for t in mlflow.search_traces(locations=[exp], model_id=model_id,
                                                                          return_type="list")]
                def model(model_id):
                    m = mlflow.get_logged_model(model_id)
                    return {"name": m.name, "params": m.params, "tags": m.tags, "status": str(m.status),
                            "experiment_id": m.experiment_id}
                versions = [m.model_id for m in mlflow.search_logged_models(experiment_ids=[exp], output_format="list")]
                print(json.dumps({"a": ids("%s"), "b": ids("%s"), "model_a": model("%s"), "model_b": model("%s"),
                                  "versions": versions}))
                """.formatted(MlflowServerResource.experimentId(), modelA, modelB, modelA, modelB));
        assertTrue(read.get("a").toString().contains(traceA), read.toString());
        assertFalse(read.get("a").toString().contains(traceB), "B's trace is not under A's version: " + read);
        assertTrue(read.get("b").toString().contains(traceB), read.toString());
        assertFalse(read.get("b").toString().contains(traceA), "A's trace is not under B's version: " + read);
        assertTrue(read.get("versions").toString().contains(modelA) && read.get("versions").toString().contains(modelB),
                "both are agent versions of the experiment: " + read);

        JsonNode a = read.get("model_a");
        assertEquals(deployed.name(), a.get("name").asText());
        assertTrue(a.get("name").asText().startsWith("agentfn-build-a-"), a.toString());
        assertEquals(SYSTEM_A, a.at("/params/system_prompt").asText());
        assertEquals("claude-sonnet-5-5", a.at("/params/default_model").asText());
        assertEquals("build-a", a.at("/params/label").asText());
        assertTrue(a.at("/params/tools").asText().contains("weather"), "the tool catalogue is part of it: " + a);
        assertEquals("build-a", a.at("/tags/agentfn.label").asText());
        assertEquals(deployed.digest(), a.at("/tags/agentfn.version_digest").asText());
        assertTrue(a.get("status").asText().contains("READY"), a.toString());
        assertEquals(SYSTEM_B, read.at("/model_b/params/system_prompt").asText());
    }

    @Test
    void anEvaluationRunIsLinkedToTheVersionItEvaluated() throws Exception {
        fake.enqueue(FakeTurn.text("Paris."));
        JsonPath started = given().contentType("application/json").body("""
                {"dataset":{"rows":[{"inputs":{"prompt":"Capital of France?"}}]},"scorers":["no_error"]}
                """).when().post("/v1/evaluations").then().statusCode(202).extract().jsonPath();
        JsonPath done = EvaluationToMlflowTest.await(started.getString("id"));
        assertEquals("FINISHED", done.getString("status"), done.prettify());
        JsonNode run = python.json("""
                import mlflow, json
                r = mlflow.get_run("%s")
                ts = mlflow.search_traces(locations=[r.info.experiment_id], run_id=r.info.run_id, return_type="list")
                print(json.dumps({"models": [m.model_id for m in r.inputs.model_inputs],
                                  "trace_models": [t.info.trace_metadata.get("mlflow.modelId") for t in ts]}))
                """.formatted(started.getString("run_id")));
        String version = deployed.modelId().orElseThrow();
        assertEquals(List.of(version), List.of(run.at("/models/0").asText()), run.toString());
        assertEquals(1, run.get("models").size(), run.toString());
        assertEquals(version, run.at("/trace_models/0").asText(), "the row's trace is the version's too: " + run);
    }

    @Test
    void aJudgesInstructionsMayNameARegisteredPrompt() throws Exception {
        String name = "judge-" + UUID.randomUUID().toString().substring(0, 8);
        String template = "Is the response in {{ outputs }} an answer to {{ inputs }}? Return 'pass' or 'fail'.";
        python.run("""
                import mlflow
                mlflow.genai.register_prompt(name="%s", template="%s")
                mlflow.genai.set_prompt_alias("%s", alias="judging", version=1)
                """.formatted(name, template, name));
        FakeOpenAiServer openai = FakeOpenAiResource.fake();
        openai.reset();
        fake.enqueue(FakeTurn.text("Paris."));
        openai.enqueue(FakeOpenAiServer.text(SeedExampleTest.PASS));
        JsonPath started = given().contentType("application/json").body("""
                {"dataset":{"rows":[{"inputs":{"prompt":"Capital of France?"}}]},
                 "scorers":[{"type":"judge","name":"relevance","model":"openai:/gpt-4o","instructions":"prompts:/%s@judging"}]}
                """.formatted(name)).when().post("/v1/evaluations").then().statusCode(202).extract().jsonPath();
        JsonPath done = EvaluationToMlflowTest.await(started.getString("id"));
        assertEquals("FINISHED", done.getString("status"), done.prettify());
        JsonNode read = EvaluationToMlflowTest.readBack(python, started.getString("run_id"));
        JsonNode a = read.at("/traces/0/assessments/0");
        assertEquals("pass", a.get("value").asText(), read.toString());
        assertEquals(template, a.at("/metadata/guideline").asText(), "the judge ran with the registered template");

        given().contentType("application/json").body("""
                {"dataset":{"rows":[{"inputs":{"prompt":"x"}}]},
                 "scorers":[{"type":"judge","name":"relevance","instructions":"prompts:/%s@nope"}]}
                """.formatted(name)).when().post("/v1/evaluations").then().statusCode(400)
                .body("detail", containsString("scorers[0]: prompt prompts:/" + name + "@nope does not exist"));
    }

    @Test
    void anAliasMovedInThePromptRegistryChangesWhatTheNextInvocationsSendAndLinkWithoutARestart() throws Exception {
        String name = "support-" + UUID.randomUUID().toString().substring(0, 8);
        python.run("""
                import mlflow
                mlflow.genai.register_prompt(name="%1$s", template="You are a {{ tone }} support agent. (v1)")
                mlflow.genai.register_prompt(name="%1$s", template="You are a {{tone}} support agent for {{ product }}. (v2)")
                mlflow.genai.set_prompt_alias("%1$s", alias="production", version=1)
                """.formatted(name));
        String body = "{\"prompt\":\"My order is late\",\"system\":\"prompts:/" + name + "@production\","
                + "\"prompt_variables\":{\"tone\":\"calm\",\"product\":\"agentfn\"}}";

        String first = invoke(body);
        assertEquals("You are a calm support agent. (v1)", lastSystem().asText());
        assertEquals(json.readTree("[{\"name\": \"" + name + "\", \"version\": \"1\"}]"),
                json.readTree(traceInfo(first).at("/tags/mlflow.linkedPrompts").asText()));

        python.run("""
                import mlflow
                mlflow.genai.set_prompt_alias("%s", alias="production", version=2)
                """.formatted(name));
        // the cache lives 1 ms here: the next invocations (polled, no fixed wait) send version 2
        String second = null;
        for (int i = 0; i < 50 && second == null; i++) {
            String id = invoke(body);
            if (lastSystem().asText().contains("(v2)")) {
                second = id;
            }
        }
        assertTrue(second != null, "the moved alias never took effect");
        assertEquals("You are a calm support agent for agentfn. (v2)", lastSystem().asText());

        JsonNode read = python.json("""
                import mlflow, json
                exp = "%1$s"
                def ids(version):
                    return [t.info.trace_id for t in mlflow.search_traces(locations=[exp], return_type="list",
                                filter_string='prompt = "%2$s/' + str(version) + '"')]
                t = mlflow.get_trace("%3$s")
                print(json.dumps({"v1": ids(1), "v2": ids(2), "tag": t.info.tags.get("mlflow.linkedPrompts"),
                                  "model": t.info.trace_metadata.get("mlflow.modelId")}))
                """.formatted(MlflowServerResource.experimentId(), name, second));
        assertTrue(read.get("v1").toString().contains(first), read.toString());
        assertFalse(read.get("v1").toString().contains(second), read.toString());
        assertTrue(read.get("v2").toString().contains(second), read.toString());
        assertFalse(read.get("v2").toString().contains(first), read.toString());
        assertTrue(read.get("tag").asText().contains("\"2\""), read.toString());
        assertEquals(deployed.modelId().orElseThrow(), read.get("model").asText(),
                "a moved alias is the same agent version; the prompt version tells them apart");
    }

    @Test
    void aChatPromptGivesTheSystemPromptAndTheTurnsBeforeTheRequests() throws Exception {
        String name = "chat-" + UUID.randomUUID().toString().substring(0, 8);
        python.run("""
                import mlflow
                mlflow.genai.register_prompt(name="%s", template=[
                    {"role": "system", "content": "You answer about {{ topic }}."},
                    {"role": "user", "content": "Hello"},
                    {"role": "assistant", "content": "Hi, ask me about {{ topic }}."}])
                """.formatted(name));
        invoke("{\"prompt\":\"Why?\",\"system\":\"prompts:/" + name + "/1\",\"prompt_variables\":{\"topic\":\"tides\"}}");
        List<RecordedRequest> sent = fake.messageRequests();
        JsonNode request = json.readTree(sent.get(sent.size() - 1).body());
        assertEquals("You answer about tides.", request.path("system").asText());
        assertEquals("Hello", request.at("/messages/0/content").asText());
        assertEquals("Hi, ask me about tides.", request.at("/messages/1/content").asText());
        assertEquals("Why?", request.at("/messages/2/content").asText(), request.toString());
    }

    @Test
    void anUnknownPromptOrAMissingVariableIsAClearBadRequest() {
        String name = "strict-" + UUID.randomUUID().toString().substring(0, 8);
        python.run("""
                import mlflow
                mlflow.genai.register_prompt(name="%s", template="Hello {{ customer }}")
                """.formatted(name));
        int before = fake.messageRequests().size();
        given().contentType("application/json").body("{\"prompt\":\"hi\",\"system\":\"prompts:/" + name + "/1\"}")
                .when().post("/v1/invocations").then().statusCode(400)
                .contentType("application/problem+json")
                .body("detail", equalTo("prompt prompts:/" + name + "/1 (version 1) needs the variables [customer]; "
                        + "send them in \"prompt_variables\""));
        given().contentType("application/json").body("{\"prompt\":\"hi\",\"system\":\"prompts:/" + name + "@nope\"}")
                .when().post("/v1/invocations").then().statusCode(400)
                .contentType("application/problem+json")
                .body("detail", containsString("no prompt '" + name + "' with alias 'nope'"));
        given().contentType("application/json").body("{\"prompt\":\"hi\",\"system\":\"prompts:/" + name + "/7\"}")
                .when().post("/v1/invocations").then().statusCode(400)
                .body("detail", containsString("with version 7"));
        given().contentType("application/json").body("{\"prompt\":\"hi\",\"system\":\"prompts:/has space/1\"}")
                .when().post("/v1/invocations").then().statusCode(400)
                .body("detail", containsString("prompts:/<name>/<version> or prompts:/<name>@<alias>"));
        assertEquals(before, fake.messageRequests().size(), "nothing reached the model with an unusable prompt");
    }

    @Test
    void mlflowUnreachableWhileAPromptIsCachedServesTheCachedVersionAndTheTraceSaysSo() throws Exception {
        String name = "cached-" + UUID.randomUUID().toString().substring(0, 8);
        python.run("""
                import mlflow
                mlflow.genai.register_prompt(name="%s", template="Cached prompt text.")
                """.formatted(name));
        String body = "{\"prompt\":\"hi\",\"system\":\"prompts:/" + name + "/1\"}";
        invoke(body);
        MlflowServer server = MlflowServerResource.server();
        String spooled;
        server.stop();
        try {
            fake.enqueue(FakeTurn.text("still here"));
            spooled = given().contentType("application/json").body(body).when().post("/v1/invocations").then()
                    .statusCode(200).body("trace.export", equalTo("spooled")).extract().path("trace.id");
            assertEquals("Cached prompt text.", lastSystem().asText(), "the cached version served");
        } finally {
            server.start();
        }
        JsonNode tags = null;
        for (int i = 0; i < 60; i++) {
            drainer.drainOnce();
            JsonNode found = python.json("""
                    import mlflow, json
                    t = mlflow.get_trace("%s")
                    print(json.dumps(None if t is None else t.info.tags))
                    """.formatted(spooled));
            if (!found.isNull()) {
                tags = found;
                break;
            }
            Thread.sleep(200);
        }
        assertTrue(tags != null, "the spooled trace arrived");
        assertTrue(tags.path("agentfn.prompt.cached").asText().startsWith("MLflow unreachable"), tags.toString());
        assertTrue(tags.path("agentfn.prompt.cached").asText().endsWith("served version 1 loaded earlier"),
                tags.toString());
        assertTrue(tags.path("mlflow.linkedPrompts").asText().contains(name), tags.toString());
    }
}
