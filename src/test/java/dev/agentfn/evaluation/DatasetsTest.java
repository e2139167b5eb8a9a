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
