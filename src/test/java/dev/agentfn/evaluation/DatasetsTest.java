package dev.agentfn.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    Path dir;

    Datasets datasets() {
        return new Datasets(JSON, Optional.of(dir), 100);
    }

    Path write(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content);
    }

    @Test
    void jsonlRowsSkipBlankLinesAndKeepExpectations() throws IOException {
        write("d.jsonl", """
                {"inputs":{"prompt":"a"},"expectations":{"expected_response":"A"}}

                {"inputs":{"messages":[{"role":"user","content":"b"}],"max_turns":2}}
                """);
        Dataset d = datasets().file("d.jsonl");
        assertEquals(2, d.rows().size());
        assertEquals("A", d.rows().get(0).expectations().get("expected_response").asText());
        assertEquals("line 3", d.rows().get(1).where());
        assertTrue(d.rows().get(1).expectations().isEmpty());
    }

    @Test
    void malformedJsonlNamesTheLine() throws IOException {
        write("bad.jsonl", "{\"inputs\":{\"prompt\":\"a\"}}\n{\"inputs\":{\"prompt\":\"b\"}\n");
        var e = assertThrows(EvaluationException.class, () -> datasets().file("bad.jsonl"));
        assertTrue(e.getMessage().startsWith("line 2: malformed JSON"), e.getMessage());
        write("worse.jsonl", "{\"inputs\":{\"prompt\":\"a\"}}\n\n{\"inputs\": {x: 1}}\n");
        var worse = assertThrows(EvaluationException.class, () -> datasets().file("worse.jsonl"));
        assertEquals("line 3: malformed JSON at column 13: unexpected character 'x': was expecting double-quote to "
                + "start field name", worse.getMessage(), "no parser internals (code 120, [Source: …])");
    }

    /** MLflow's rows: {@code inputs} are the predict function's arguments, not an invocation request. */
    @Test
    void mlflowStyleInputsBecomeThePromptAndStayTheJudgesInputs() throws IOException {
        write("seed.jsonl", "{\"inputs\": {\"query\": \"What is machine learning?\"}}\n");
        DatasetRow row = datasets().file("seed.jsonl").rows().get(0);
        assertEquals("{\"prompt\":\"What is machine learning?\"}", row.inputs().toString());
        assertEquals("{\"query\":\"What is machine learning?\"}", row.originalInputs().toString());

        write("two.jsonl", "{\"inputs\": {\"query\": \"q\", \"context\": \"c\", \"k\": 3}}\n");
        var ambiguous = assertThrows(EvaluationException.class, () -> datasets().file("two.jsonl"));
        assertEquals("line 1: inputs have several text fields [query, context] and it is not clear which is the "
                + "prompt: set dataset.prompt_key (e.g. \"query\") or dataset.prompt_template (e.g. \"{{ query }}\")",
                ambiguous.getMessage());
        assertEquals("{\"prompt\":\"c\"}", datasets().file("two.jsonl", PromptMapping.of("context", null))
                .rows().get(0).inputs().toString());
        DatasetRow templated = datasets().file("two.jsonl", PromptMapping.of(null, "Answer briefly: {{ query }} ({{k}})"))
                .rows().get(0);
        assertEquals("Answer briefly: q (3)", templated.inputs().get("prompt").asText());
        assertEquals(3, templated.originalInputs().get("k").asInt());
        var missing = assertThrows(EvaluationException.class,
                () -> datasets().file("two.jsonl", PromptMapping.of(null, "{{ question }}")));
        assertTrue(missing.getMessage().startsWith("line 1: dataset.prompt_template uses {{ question }}"), missing.getMessage());
        assertThrows(EvaluationException.class, () -> PromptMapping.of("query", "{{ query }}"));

        write("q.csv", "query,expected_response\nWhat is MLflow?,A platform\n");
        DatasetRow csv = datasets().file("q.csv").rows().get(0);
        assertEquals("What is MLflow?", csv.inputs().get("prompt").asText());
        assertEquals("A platform", csv.expectations().get("expected_response").asText());
    }

    @Test
    void rowWithoutPromptOrMessagesNamesTheLine() throws IOException {
        write("bad.jsonl", "{\"inputs\":{\"prompt\":\"a\"}}\n{\"inputs\":{\"model\":\"x\"}}\n");
        var e = assertThrows(EvaluationException.class, () -> datasets().file("bad.jsonl"));
        assertEquals("line 2: inputs need \"prompt\" or \"messages\"", e.getMessage());
    }

    @Test
    void csvColumnsBecomeInputsAndExpectationsWithQuotedFields() throws IOException {
        write("d.csv", "prompt,max_turns,expected_response,expected_tools\n\"Hello, world\",2,\"He said \"\"hi\"\"\",\"[\"\"weather\"\"]\"\n\"two\nlines\",,x,\n");
        Dataset d = datasets().file("d.csv");
        assertEquals(2, d.rows().size());
        assertEquals("Hello, world", d.rows().get(0).inputs().get("prompt").asText());
        assertEquals(2, d.rows().get(0).inputs().get("max_turns").asInt());
        assertEquals("He said \"hi\"", d.rows().get(0).expectations().get("expected_response").asText());
        assertEquals("weather", d.rows().get(0).expectations().get("expected_tools").get(0).asText());
        assertEquals("two\nlines", d.rows().get(1).inputs().get("prompt").asText());
        assertEquals("line 3", d.rows().get(1).where());
    }

    @Test
    void csvWithWrongFieldCountNamesTheLine() throws IOException {
        write("d.csv", "prompt,expected_response\na,b\nc\n");
        var e = assertThrows(EvaluationException.class, () -> datasets().file("d.csv"));
        assertEquals("line 3: 1 fields, the header has 2", e.getMessage());
    }

    @Test
    void missingFileAndEscapesAreRefused() {
        assertEquals("dataset file nope.jsonl does not exist",
                assertThrows(EvaluationException.class, () -> datasets().file("nope.jsonl")).getMessage());
        assertTrue(assertThrows(EvaluationException.class, () -> datasets().file("../../etc/passwd.csv"))
                .getMessage().contains("outside"));
        assertTrue(assertThrows(EvaluationException.class,
                () -> new Datasets(JSON, Optional.empty(), 10).file("x.jsonl")).getMessage().contains("disabled"));
    }

    @Test
    void inlineRowsAndSizeLimit() throws IOException {
        var row = JSON.readTree("{\"inputs\":{\"prompt\":\"a\"}}");
        assertEquals("dataset.rows[0]", datasets().inline(List.of(row)).rows().get(0).where());
        var e = assertThrows(EvaluationException.class, () -> new Datasets(JSON, Optional.of(dir), 1)
                .inline(List.of(row, row)));
        assertTrue(e.getMessage().contains("max-rows"));
        var bad = JSON.readTree("{\"inputs\":{\"prompt\":\"a\"},\"extra\":1}");
        assertTrue(assertThrows(EvaluationException.class, () -> datasets().inline(List.of(bad))).getMessage()
                .startsWith("dataset.rows[0]: unknown field \"extra\""));
    }
}
