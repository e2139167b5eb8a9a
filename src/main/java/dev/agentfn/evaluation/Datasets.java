package dev.agentfn.evaluation;

import dev.agentfn.JsonErrors;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Reads datasets: JSONL and CSV files, or rows given inline. Errors name the line, so a user
 * can fix a 10 000-line file without bisecting it.
 */
public final class Datasets {
    private final ObjectMapper json;
    private final Optional<Path> root;
    private final int maxRows;
    private final DatasetFetcher fetcher;

    /** @param root files must lie under it; empty: file datasets are refused */
    public Datasets(ObjectMapper json, Optional<Path> root, int maxRows) {
        this(json, root, maxRows, null);
    }

    /** @param fetcher downloads URL datasets; {@code null}: URL datasets are refused */
    public Datasets(ObjectMapper json, Optional<Path> root, int maxRows, DatasetFetcher fetcher) {
        this.json = json;
        this.root = root.map(p -> p.toAbsolutePath().normalize());
        this.maxRows = maxRows;
        this.fetcher = fetcher;
    }

    /** Inline rows, each {@code {"inputs":{…},"expectations":{…}}}. */
    public Dataset inline(List<JsonNode> rows) {
        return inline(rows, new PromptMapping.Auto());
    }

    public Dataset inline(List<JsonNode> rows, PromptMapping mapping) {
        if (rows.isEmpty()) {
            throw new EvaluationException("dataset.rows is empty");
        }
        checkSize(rows.size());
        List<DatasetRow> out = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            out.add(row(out.size(), rows.get(i), "dataset.rows[" + i + "]", mapping));
        }
        return new Dataset("inline:" + rows.size() + " rows", out);
    }

    public Dataset file(String path) {
        return file(path, new PromptMapping.Auto());
    }

    /** @param mapping how rows whose inputs are not a request find their prompt */
    public Dataset file(String path, PromptMapping mapping) {
        Path file = resolve(path);
        List<String> lines = readLines(file, path);
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        List<DatasetRow> rows;
        if (name.endsWith(".jsonl") || name.endsWith(".ndjson")) {
            rows = jsonl(lines, mapping);
        } else if (name.endsWith(".csv")) {
            rows = csv(lines, mapping);
        } else {
            throw new EvaluationException("dataset " + path + ": unknown format; use a .jsonl or .csv file");
        }
        if (rows.isEmpty()) {
            throw new EvaluationException("dataset " + path + " has no rows");
        }
        return new Dataset(path, rows);
    }

    /**
     * A JSONL or CSV file at an {@code https://} URL: the format comes from the path's extension, else from
     * the Content-Type. Errors name the line as for files.
     */
    public Dataset url(String url) {
        return url(url, new PromptMapping.Auto());
    }

    public Dataset url(String url, PromptMapping mapping) {
        if (fetcher == null) {
            throw new EvaluationException("URL datasets are disabled; set " + DatasetFetcher.HOSTS_PROPERTY);
        }
        DatasetFetcher.Download d = fetcher.fetch(url);
        String path = d.fetched().toLowerCase(Locale.ROOT);
        String type = d.contentType().toLowerCase(Locale.ROOT);
        List<DatasetRow> rows;
        if (path.endsWith(".jsonl") || path.endsWith(".ndjson")) {
            rows = jsonl(d.lines(), mapping);
        } else if (path.endsWith(".csv")) {
            rows = csv(d.lines(), mapping);
        } else if (type.contains("ndjson") || type.contains("jsonl") || type.contains("json-lines")) {
            rows = jsonl(d.lines(), mapping);
        } else if (type.startsWith("text/csv")) {
            rows = csv(d.lines(), mapping);
        } else {
            throw new EvaluationException("dataset URL " + d.shown() + ": unknown format; use a .jsonl or .csv path "
                    + "or serve it as application/x-ndjson or text/csv (Content-Type was '" + d.contentType() + "')");
        }
        if (rows.isEmpty()) {
            throw new EvaluationException("dataset URL " + d.shown() + " has no rows");
        }
        return new Dataset(d.shown(), rows, new Dataset.Origin(d.shown(), "http",
                json.createObjectNode().put("url", d.shown()).toString(), null, null));
    }

    /**
     * Records of an MLflow evaluation dataset as rows. {@code where} names each record for messages.
     *
     * @param mapping how records whose inputs are not an invocation request find their prompt
     */
    Dataset records(List<Record> records, PromptMapping mapping, String source, Dataset.Origin origin) {
        checkSize(records.size());
        List<DatasetRow> rows = new ArrayList<>();
        for (Record r : records) {
            ObjectNode node = json.createObjectNode();
            node.set("inputs", r.inputs());
            if (r.expectations() != null && !r.expectations().isNull()) {
                node.set("expectations", r.expectations());
            }
            rows.add(row(rows.size(), node, r.where(), mapping));
        }
        if (rows.isEmpty()) {
            throw new EvaluationException("dataset " + source + " has no records");
        }
        return new Dataset(source, rows, origin);
    }

    /** One record of an MLflow evaluation dataset. */
    record Record(String where, JsonNode inputs, JsonNode expectations) {
    }

    private Path resolve(String path) {
        if (root.isEmpty()) {
            throw new EvaluationException("file datasets are disabled; set agentfn.evaluation.dataset-root");
        }
        Path file = root.get().resolve(path).toAbsolutePath().normalize();
        if (!file.startsWith(root.get())) {
            throw new EvaluationException("dataset path " + path + " is outside agentfn.evaluation.dataset-root");
        }
        return file;
    }

    private static List<String> readLines(Path file, String shown) {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new EvaluationException("dataset file " + shown + " does not exist");
        } catch (MalformedInputException e) {
            throw new EvaluationException("dataset file " + shown + " is not UTF-8");
        } catch (IOException e) {
            throw new EvaluationException("dataset file " + shown + " cannot be read: " + e.getClass().getSimpleName());
        }
    }

    private List<DatasetRow> jsonl(List<String> lines, PromptMapping mapping) {
        List<DatasetRow> rows = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            String where = "line " + (i + 1);
            JsonNode node;
            try {
                node = json.readTree(lines.get(i));
            } catch (JsonProcessingException e) {
                throw new EvaluationException(where + ": malformed JSON" + JsonErrors.describe(e));
            }
            rows.add(row(rows.size(), node, where, mapping));
            checkSize(rows.size());
        }
        return rows;
    }

    private List<DatasetRow> csv(List<String> lines, PromptMapping mapping) {
        List<Csv.Record> records = Csv.parse(lines);
        if (records.isEmpty()) {
            return List.of();
        }
        List<String> header = records.get(0).fields();
        List<DatasetRow> rows = new ArrayList<>();
        for (Csv.Record r : records.subList(1, records.size())) {
            String where = "line " + r.line();
            if (r.fields().size() != header.size()) {
                throw new EvaluationException(where + ": " + r.fields().size() + " fields, the header has " + header.size());
            }
            rows.add(row(rows.size(), csvRow(header, r.fields(), where), where, mapping));
            checkSize(rows.size());
        }
        return rows;
    }

    /**
     * A CSV row as a JSONL row: {@code inputs}/{@code expectations} columns hold JSON; otherwise
     * {@code expected_*} columns are expectations and the other columns inputs. Cells that look like
     * JSON arrays, objects or integers are parsed.
     */
    private ObjectNode csvRow(List<String> header, List<String> fields, String where) {
        ObjectNode row = json.createObjectNode();
        ObjectNode inputs = row.putObject("inputs");
        ObjectNode expectations = row.putObject("expectations");
        for (int c = 0; c < header.size(); c++) {
            String column = header.get(c).strip();
            String cell = fields.get(c);
            if (cell.isEmpty()) {
                continue;
            }
            JsonNode value = cellValue(cell, column, where);
            if (column.equals("inputs") || column.equals("expectations")) {
                row.set(column, value);
            } else if (column.startsWith("expected_")) {
                expectations.set(column, value);
            } else {
                inputs.set(column, value);
            }
        }
        return row;
    }

    private JsonNode cellValue(String cell, String column, String where) {
        String s = cell.strip();
        boolean structured = s.startsWith("[") || s.startsWith("{") || s.matches("-?\\d{1,9}");
        boolean text = column.equals("prompt") || column.equals("expected_response");
        if (!structured || text) {
            return json.getNodeFactory().textNode(cell);
        }
        try {
            return json.readTree(s);
        } catch (JsonProcessingException e) {
            throw new EvaluationException(where + ", column " + column + ": malformed JSON" + JsonErrors.describe(e));
        }
    }

    private DatasetRow row(int index, JsonNode node, String where, PromptMapping mapping) {
        if (!node.isObject()) {
            throw new EvaluationException(where + ": a row must be a JSON object with \"inputs\"");
        }
        JsonNode inputs = node.get("inputs");
        if (inputs == null || !inputs.isObject()) {
            throw new EvaluationException(where + ": \"inputs\" must be an object: an invocation request (\"prompt\" "
                    + "or \"messages\") or the fields a prompt is made of");
        }
        JsonNode expectations = node.path("expectations");
        if (!expectations.isMissingNode() && !expectations.isNull() && !expectations.isObject()) {
            throw new EvaluationException(where + ": \"expectations\" must be an object");
        }
        node.fieldNames().forEachRemaining(field -> {
            if (!field.equals("inputs") && !field.equals("expectations")) {
                throw new EvaluationException(where + ": unknown field \"" + field + "\"; a row has inputs and expectations");
            }
        });
        ObjectNode exp = expectations.isObject() ? (ObjectNode) expectations : json.createObjectNode();
        ObjectNode request = mapping.request((ObjectNode) inputs, where);
        return new DatasetRow(index, where, request, exp, null, (ObjectNode) inputs);
    }

    private void checkSize(int rows) {
        if (rows > maxRows) {
            throw new EvaluationException("the dataset has more than " + maxRows
                    + " rows (agentfn.evaluation.max-rows)");
        }
    }
}
