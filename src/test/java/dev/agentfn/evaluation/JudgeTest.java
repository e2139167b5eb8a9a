package dev.agentfn.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.conversation.Sleeper;
import dev.agentfn.conversation.messages.AnthropicClient;
import dev.agentfn.conversation.messages.RetryPolicy;
import dev.agentfn.standin.FakeAnthropicServer;
import dev.agentfn.standin.FakeTurn;
import io.vertx.core.Vertx;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class JudgeTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static FakeAnthropicServer fake;
    static Judge.Services services;

    @BeforeAll
    static void start() {
        fake = new FakeAnthropicServer().start(0);
        AnthropicClient client = new AnthropicClient(Vertx.vertx(), Duration.ofSeconds(5), JSON,
                new AnthropicClient.Endpoint(URI.create(fake.baseUrl()), Optional.of("k"), Optional.empty(),
                        "2023-06-01", List.of()),
                new RetryPolicy(0, Duration.ofSeconds(1), () -> 0.5), Sleeper.SYSTEM);
        services = new Judge.Services(client, JSON, new Limiter(2), 256, Duration.ofSeconds(10));
    }

    @AfterAll
    static void stop() {
        fake.close();
    }

    @BeforeEach
    void reset() {
        fake.reset();
    }

    static Judge judge(String spec) {
        return Judge.create(CodeScorersTest.spec(spec), "scorers[0]", "claude-haiku-4-5", services);
    }

    static final DatasetRow ROW = CodeScorersTest.row("{\"expected_response\":\"Paris\"}");
    static final RowOutcome OUT = CodeScorersTest.ok("Paris.");

    @Test
    void yesNoAnswerWithRationaleAndMakeJudgesMessages() {
        fake.enqueue(FakeTurn.text("```json\n{\"result\":\"Yes\",\"rationale\":\"It names Paris.\"}\n```"));
        Judge j = judge("{\"type\":\"judge\",\"name\":\"correct\",\"result_type\":\"yes/no\",\"instructions\":"
                + "\"Q: {{ inputs }} A: {{outputs}} E: {{ expectations }}\"}");
        Assessment a = j.score(ROW, OUT).join();
        assertEquals("yes", a.value());
        assertEquals("It names Paris.", a.rationale());
        assertEquals("anthropic:/claude-haiku-4-5", j.sourceId());
        assertEquals("LLM_JUDGE", j.sourceType());
        com.fasterxml.jackson.databind.JsonNode sent = fake.messageRequests().get(0).json();
        assertEquals("claude-haiku-4-5", sent.get("model").asText());
        // As make_judge: the instructions unrendered in the system message, the values in the user message.
        String system = sent.get("system").isArray() ? sent.at("/system/0/text").asText() : sent.get("system").asText();
        assertTrue(system.contains("Your task: Q: {{ inputs }} A: {{outputs}} E: {{ expectations }}."), system);
        assertTrue(system.contains("- result (Literal['yes', 'no']): The evaluation rating/result"), system);
        com.fasterxml.jackson.databind.JsonNode content = sent.at("/messages/0/content");
        String user = content.isArray() ? content.at("/0/text").asText() : content.asText();
        assertEquals("inputs: {\n  \"prompt\": \"p\"\n}\noutputs: \"Paris.\"\nexpectations: {\n"
                + "  \"expected_response\": \"Paris\"\n}", user);
        assertTrue(a.usage() != null && a.usage().inputTokens() > 0, String.valueOf(a.usage()));
    }

    @Test
    void withoutAResultTypeTheInstructionsDecideTheAnswer() {
        // The seed's judge: its instructions ask for 'pass' or 'fail'; MLflow stores the string as answered.
        fake.enqueue(FakeTurn.text("{\"result\": \"pass\", \"rationale\": \"relevant\"}"),
                FakeTurn.text("{\"result\": 4, \"rationale\": \"r\"}"), FakeTurn.text("{\"result\": 4.5}"),
                FakeTurn.text("{\"result\": 3}"));
        Judge seed = judge("{\"type\":\"judge\",\"name\":\"relevance\",\"instructions\":\"Evaluate if the response in "
                + "{{ outputs }} is relevant to the question in {{ inputs }}. Return either 'pass' or 'fail'.\"}");
        assertEquals("pass", seed.score(ROW, OUT).join().value());
        assertTrue(fake.messageRequests().get(0).body().contains("- result (str)"));
        assertEquals(false, seed.mlflowMean(), "MLflow logs no mean for a str judge");
        Judge stars = judge("{\"type\":\"judge\",\"name\":\"stars\",\"result_type\":\"int\",\"instructions\":\"{{ outputs }}\"}");
        assertEquals(4L, stars.score(ROW, OUT).join().value());
        assertEquals(3L, stars.score(ROW, OUT).join().value(), "4.5 is not an int: asked again");
        assertEquals(true, stars.mlflowMean());
    }

    @Test
    void malformedAnswerIsRetriedOnceThenAnError() {
        fake.enqueue(FakeTurn.text("I think yes"), FakeTurn.text("{\"result\":4.5,\"rationale\":\"ok\"}"));
        Judge n = judge("{\"type\":\"judge\",\"name\":\"score\",\"result_type\":\"number\",\"model\":\"anthropic:/m\","
                + "\"instructions\":\"{{ outputs }}\"}");
        assertEquals(4.5, n.score(ROW, OUT).join().value());
        assertEquals(2, fake.messageRequests().size());

        fake.enqueue(FakeTurn.text("nope"), FakeTurn.text("{\"result\":\"maybe\"}"));
        Assessment failed = judge("{\"type\":\"judge\",\"name\":\"c\",\"result_type\":\"yes/no\","
                + "\"instructions\":\"{{ outputs }}\"}").score(ROW, OUT).join();
        assertNull(failed.value());
        assertTrue(failed.error().contains("is not Literal['yes', 'no']"), failed.error());
    }

    @Test
    void unreachableModelIsAnAssessmentError() {
        fake.enqueue(FakeTurn.error(401, "authentication_error", "bad key", java.util.Map.of()));
        Assessment a = judge("{\"type\":\"judge\",\"name\":\"c\",\"instructions\":\"{{ outputs }}\"}").score(ROW, OUT).join();
        assertTrue(a.error().startsWith("judge call failed"), a.error());
    }

    @Test
    void categoriesAndBool() {
        fake.enqueue(FakeTurn.text("{\"result\":\"polite\",\"rationale\":\"r\"}"), FakeTurn.text("{\"result\":false}"));
        assertEquals("polite", judge("{\"type\":\"judge\",\"name\":\"tone\",\"result_type\":\"categories\","
                + "\"categories\":[\"polite\",\"rude\"],\"instructions\":\"{{ outputs }}\"}").score(ROW, OUT).join().value());
        assertEquals(false, judge("{\"type\":\"judge\",\"name\":\"b\",\"result_type\":\"bool\","
                + "\"instructions\":\"{{ outputs }}\"}").score(ROW, OUT).join().value());
    }

    @Test
    void definitionErrors() {
        var unknown = assertThrows(EvaluationException.class,
                () -> judge("{\"type\":\"judge\",\"name\":\"x\",\"instructions\":\"{{ output }}\"}"));
        assertTrue(unknown.getMessage().contains("unknown template variable {{ output }}"), unknown.getMessage());
        assertThrows(EvaluationException.class, () -> judge("{\"type\":\"judge\",\"name\":\"x\",\"instructions\":\"no vars\"}"));
        assertThrows(EvaluationException.class, () -> judge("{\"type\":\"judge\",\"name\":\"x\",\"model\":\"openai:/gpt\","
                + "\"instructions\":\"{{ outputs }}\"}"));
        assertThrows(EvaluationException.class, () -> judge("{\"type\":\"judge\",\"name\":\"x\",\"result_type\":\"stars\","
                + "\"instructions\":\"{{ outputs }}\"}"));
        Scorers scorers = new Scorers("m", services);
        var e = assertThrows(EvaluationException.class, () -> scorers.create(CodeScorersTest.spec("[\"no_error\",\"bleu\"]")));
        assertTrue(e.getMessage().startsWith("scorers[1]: unknown scorer 'bleu'"), e.getMessage());
        assertThrows(EvaluationException.class, () -> scorers.create(CodeScorersTest.spec("[\"no_error\",\"no_error\"]")));
    }
}
