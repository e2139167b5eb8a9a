package dev.agentfn.conversation.claudecode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The directories of one CLI process: working directory (the only place its tools may touch), config
 * directory ({@code CLAUDE_CONFIG_DIR}, where sessions live), {@code HOME} and {@code TMPDIR}. Throw-away
 * ones are deleted afterwards; a persistent session keeps everything but its temp directory, because
 * {@code --resume} needs the same config directory and working directory.
 */
record Workspace(Path root, Path cwd, Path config, Path home, Path tmp, boolean persistent) {
    static final String PREFIX = "agentfn-cc-";

    static Workspace temporary(Path workRoot) {
        try {
            Files.createDirectories(workRoot);
            Path root = Files.createTempDirectory(workRoot, PREFIX);
            return create(root, Files.createDirectory(root.resolve("tmp")), false);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Workspace forSession(Path sessionDir, String sessionId, Path workRoot) {
        try {
            Path root = Files.createDirectories(sessionDir.resolve(sessionId));
            Files.createDirectories(workRoot);
            return create(root, Files.createTempDirectory(workRoot, PREFIX + "tmp-"), true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Workspace create(Path root, Path tmp, boolean persistent) throws IOException {
        Path cwd = Files.createDirectories(root.resolve("work")).toRealPath();
        Path config = Files.createDirectories(root.resolve("config"));
        Path home = Files.createDirectories(root.resolve("home"));
        return new Workspace(root, cwd, config, home, tmp, persistent);
    }

    /** Whether the CLI already stored this session here ({@code projects/<cwd>/<id>.jsonl}). */
    boolean hasSession(String sessionId) {
        Path projects = config.resolve("projects");
        if (!Files.isDirectory(projects)) {
            return false;
        }
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(projects)) {
            for (Path d : dirs) {
                if (Files.exists(d.resolve(sessionId + ".jsonl"))) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            return false;
        }
    }

    /** Deletes what does not outlive the invocation. Never throws: cleanup runs on every path out. */
    void delete() {
        deleteTree(tmp);
        if (!persistent) {
            deleteTree(root);
        }
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // a file the CLI still writes: retried by nothing, reported by the leak test
                }
            });
        } catch (IOException | UncheckedIOException ignored) {
            // as above
        }
    }
}
