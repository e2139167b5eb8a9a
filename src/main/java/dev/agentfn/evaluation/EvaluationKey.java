package dev.agentfn.evaluation;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * What makes two triggers "the same evaluation", so the second continues the first's unfinished
 * run: same name, dataset rows (content, not just the file name), scorers, engine and model.
 */
final class EvaluationKey {
    private EvaluationKey() {
    }

    static String of(String name, Dataset dataset, JsonNode scorers, String engine, String model) {
        MessageDigest sha = sha256();
        update(sha, name);
        update(sha, engine);
        update(sha, model == null ? "" : model);
        update(sha, scorers == null ? "" : scorers.toString());
        for (DatasetRow row : dataset.rows()) {
            update(sha, row.inputs().toString());
            update(sha, row.expectations().toString());
        }
        return HexFormat.of().formatHex(sha.digest()).substring(0, 32);
    }

    /** A short content digest of the rows (the run input's {@code digest}). */
    static String digest(Dataset dataset) {
        MessageDigest sha = sha256();
        for (DatasetRow row : dataset.rows()) {
            update(sha, row.inputs().toString());
            update(sha, row.expectations().toString());
        }
        return HexFormat.of().formatHex(sha.digest()).substring(0, 8);
    }

    private static void update(MessageDigest sha, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        sha.update(Integer.toString(b.length).getBytes(StandardCharsets.US_ASCII));
        sha.update((byte) ':');
        sha.update(b);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
