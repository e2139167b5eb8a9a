package dev.agentfn.tracing.spool;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.jboss.logging.Logger;

/**
 * Makes the writes of a {@link DirectoryTraceSpool} durable in groups. On this kind of disk each fsync costs about the
 * same whatever it covers, and the answers of a burst of turns that end together each wait for their spool write:
 * sixteen writes forcing sixteen files took ten times as long as one file holding all sixteen.
 *
 * <p>Writers queue; whoever holds the commit lock takes every write queued so far and makes them durable at once:
 * each write goes to its own file (its final name, the layout the spool lists), unforced, and the whole group to one
 * <em>batch</em> file ({@code <uuid>.batch}) that is forced; then the renames, and one directory fsync for all. Until
 * each write's own file is forced too, its batch is what makes it durable: a write MLflow confirms meanwhile is
 * deleted and never forced (the usual case, so most writes cost no fsync of their own), one still waiting after
 * {@code hardenAfterNanos} is forced by the drainer's next listing, off the answers' path. A batch whose writes are
 * all deleted or forced is deleted. After a crash, a write whose own file cannot be read (torn or empty: it was never
 * forced) is restored from its batch when a listing meets it ({@link #repair}), and batches nobody tracks any more are
 * settled once old ({@link #sweepOrphans}). Nothing is done to a batch when the spool opens: instances of one
 * deployment may share the directory, and another's batches are its own business while it runs.
 */
final class GroupCommit {
    private static final Logger LOG = Logger.getLogger(GroupCommit.class);
    static final String SUFFIX = ".batch";
    private static final String TMP = ".tmp-";
    /** Age past which a batch nobody tracks is taken as its crashed or stopped writer's, and settled. */
    static final long ORPHAN_AGE_MILLIS = TimeUnit.MINUTES.toMillis(10);
    static final long ORPHAN_SWEEP_NANOS = TimeUnit.MINUTES.toNanos(1);
    private static final byte[] HEADER = "agentfn spool batch 1\n".getBytes(StandardCharsets.US_ASCII);

    private final Path dir;
    private final long hardenAfterNanos;
    private final LongSupplier nanoTime;
    private final ConcurrentLinkedQueue<Pending> queue = new ConcurrentLinkedQueue<>();
    /** Held while a group is made durable; package-private so a test can make writes queue up behind it. */
    final Object commitLock = new Object();
    /** The batch holding each write (by file name) whose own file is not forced yet. */
    private final Map<String, Batch> unforced = new ConcurrentHashMap<>();
    private final Set<Batch> batches = ConcurrentHashMap.newKeySet();
    private final AtomicInteger forced = new AtomicInteger();
    private long lastSweepNanos = Long.MIN_VALUE / 2; // read and written by harden's caller, one listing at a time

    GroupCommit(Path dir, long hardenAfterNanos, LongSupplier nanoTime) {
        this.dir = dir;
        this.hardenAfterNanos = hardenAfterNanos;
        this.nanoTime = nanoTime;
    }

    /** Stores {@code bytes} durably under {@code name}, in a group with the writes queued beside it. */
    void write(String name, byte[] bytes) throws IOException {
        Pending mine = new Pending(name, bytes);
        queue.add(mine);
        synchronized (commitLock) {
            if (!mine.done) {
                commitQueued();
            }
            if (!mine.done) {
                throw new IOException("the spool write of " + name + " was not committed"); // an Error took its group
            }
        }
        if (mine.failure != null) {
            throw new IOException(mine.failure.getMessage(), mine.failure);
        }
    }

    /** The write's own file is gone (delivered, dropped): it no longer needs its batch. */
    void forget(String name) {
        Batch b = unforced.remove(name);
        if (b != null) {
            b.settled(name);
        }
    }

    /**
     * Forces the own files of writes waiting in a batch for longer than the bound, so that their batches can go:
     * their exports did not confirm them in time, and they may wait in the spool for long.
     */
    void harden() {
        long now = nanoTime.getAsLong();
        sweepOrphans(now);
        for (Batch b : batches) {
            if (now - b.committedNanos >= hardenAfterNanos) {
                for (String name : b.open) {
                    if (force(dir.resolve(name))) {
                        unforced.remove(name, b);
                        b.settled(name);
                    }
                }
            }
        }
    }

    /** Batches holding writes not yet forced on their own (a test's view). */
    int openBatches() {
        return batches.size();
    }

    /** Writes whose own files were forced after their group (a test's view). */
    int forcedOnTheirOwn() {
        return forced.get();
    }

    /** Writes waiting for a group (a test's view). */
    int queued() {
        return queue.size();
    }

    /** Called with the commit lock held: takes every queued write, this thread's included. */
    private void commitQueued() {
        List<Pending> group = new ArrayList<>();
        for (Pending p; (p = queue.poll()) != null; ) {
            group.add(p);
        }
        if (group.isEmpty()) {
            return;
        }
        try {
            commit(group);
        } catch (Throwable e) {
            group.forEach(p -> p.failure = e);
            if (e instanceof Error err) {
                throw err;
            }
        } finally {
            group.forEach(p -> p.done = true);
        }
    }

    private void commit(List<Pending> group) throws IOException {
        List<Path> tmps = new ArrayList<>(group.size());
        Path batchTmp = dir.resolve(TMP + UUID.randomUUID());
        List<Path> placed = new ArrayList<>();
        try {
            for (Pending p : group) {
                Path tmp = dir.resolve(TMP + UUID.randomUUID());
                tmps.add(tmp);
                writeFile(tmp, p.bytes, false);
            }
            writeFile(batchTmp, encode(group), true);
            Path batchFile = dir.resolve(UUID.randomUUID() + SUFFIX);
            move(batchTmp, batchFile);
            placed.add(batchFile);
            for (int i = 0; i < group.size(); i++) {
                Path own = dir.resolve(group.get(i).name);
                boolean fresh = !Files.exists(own); // the same write stored before keeps its file if this group fails
                move(tmps.get(i), own);
                if (fresh) {
                    placed.add(own);
                }
            }
            syncDirectory(dir);
            track(batchFile, group);
        } catch (Throwable e) {
            tmps.forEach(GroupCommit::deleteQuietly);
            deleteQuietly(batchTmp);
            for (int i = placed.size() - 1; i >= 0; i--) { // own files first, the batch last
                deleteQuietly(placed.get(i));
            }
            throw e;
        }
    }

    private void track(Path file, List<Pending> group) {
        Batch b = new Batch(file, nanoTime.getAsLong());
        group.forEach(p -> b.open.add(p.name));
        batches.add(b);
        group.forEach(p -> {
            Batch earlier = unforced.put(p.name, b);
            if (earlier != null && earlier != b) {
                earlier.settled(p.name); // superseded by this batch's record of the same write
            }
        });
    }

    /**
     * The whole bytes of a write whose own file could not be read (a crash tore or emptied it: it was never forced),
     * from the batch that holds it, rewritten into its file and forced; null when no batch holds it.
     *
     * @throws IOException when a batch holds it but the file could not be rewritten now (a later listing tries again)
     */
    byte[] repair(String name) throws IOException {
        for (Path batch : batchFiles()) {
            List<Record> records;
            try {
                records = decode(Files.readAllBytes(batch));
            } catch (IOException | RuntimeException unreadable) {
                continue; // set aside by the orphan sweep once it is old, never read for a repair
            }
            for (Record r : records) {
                if (r.name.equals(name)) {
                    rewrite(r);
                    LOG.warnf("Spooled write %s was torn (a crash before it was forced); restored from %s", name,
                            batch.getFileName());
                    return r.bytes;
                }
            }
        }
        return null;
    }

    /**
     * Batches no process of this spool directory tracks any more (their writer crashed or stopped before their writes
     * were confirmed or forced): once {@link #ORPHAN_AGE_MILLIS} old, each write they hold whose own file is still
     * there is made durable (rewritten whole if it is not), then the batch goes. A live writer's batches are never
     * that old, so a second instance sharing the directory leaves them alone. A write whose own file is gone was
     * deleted after MLflow confirmed it and is not brought back. A batch that cannot be read moves to {@code
     * corrupt/}. Looks at most once per {@link #ORPHAN_SWEEP_NANOS}.
     */
    private void sweepOrphans(long now) {
        if (now - lastSweepNanos < ORPHAN_SWEEP_NANOS) {
            return;
        }
        lastSweepNanos = now;
        Set<Path> mine = ConcurrentHashMap.newKeySet();
        batches.forEach(b -> mine.add(b.file));
        long before = System.currentTimeMillis() - ORPHAN_AGE_MILLIS;
        for (Path batch : batchFiles()) {
            try {
                if (!mine.contains(batch) && Files.getLastModifiedTime(batch).toMillis() < before) {
                    settleOrphan(batch);
                }
            } catch (IOException e) {
                LOG.warnf("Could not look at spool batch %s: %s", batch.getFileName(), e.getMessage());
            }
        }
    }

    private void settleOrphan(Path batch) throws IOException {
        List<Record> records;
        try {
            records = decode(Files.readAllBytes(batch));
        } catch (IOException | RuntimeException e) {
            LOG.errorf("Spool batch %s is unreadable (%s); moved to corrupt/", batch.getFileName(), e.getMessage());
            Path corrupt = Files.createDirectories(dir.resolve("corrupt"));
            Files.move(batch, corrupt.resolve(batch.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            return;
        }
        for (Record r : records) {
            Path own = dir.resolve(r.name);
            if (Files.exists(own) && !Arrays.equals(readOrEmpty(own), r.bytes)) {
                rewrite(r);
            } else if (!force(own)) {
                return; // kept: the next sweep tries again
            }
        }
        Files.deleteIfExists(batch);
    }

    private void rewrite(Record r) throws IOException {
        Path tmp = dir.resolve(TMP + UUID.randomUUID());
        try {
            writeFile(tmp, r.bytes, true);
            move(tmp, dir.resolve(r.name));
        } finally {
            deleteQuietly(tmp);
        }
        syncDirectory(dir);
    }

    private static byte[] readOrEmpty(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            return new byte[0];
        }
    }

    private List<Path> batchFiles() {
        List<Path> found = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
            files.forEach(found::add);
        } catch (IOException e) {
            LOG.warnf("Could not list spool directory %s for batches: %s", dir, e.getMessage());
        }
        return found;
    }

    /** A batch: a header line, then per write {@code <file name> <length>\n<bytes>\n}. */
    static byte[] encode(List<Pending> group) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(HEADER);
        for (Pending p : group) {
            out.writeBytes((p.name + " " + p.bytes.length + "\n").getBytes(StandardCharsets.US_ASCII));
            out.writeBytes(p.bytes);
            out.write('\n');
        }
        return out.toByteArray();
    }

    static List<Record> decode(byte[] batch) throws IOException {
        ByteBuffer in = ByteBuffer.wrap(batch);
        if (!line(in).equals(new String(HEADER, 0, HEADER.length - 1, StandardCharsets.US_ASCII))) {
            throw new IOException("not a spool batch");
        }
        List<Record> records = new ArrayList<>();
        while (in.hasRemaining()) {
            String[] head = line(in).split(" ");
            if (head.length != 2 || !DirectoryTraceSpool.isTrace(head[0]) || head[0].contains("/")
                    || head[0].contains("\\")) {
                throw new IOException("bad record header");
            }
            int length = Integer.parseInt(head[1]);
            if (length < 0 || length >= in.remaining()) {
                throw new IOException("record of " + head[0] + " cut short");
            }
            byte[] bytes = new byte[length];
            in.get(bytes);
            if (in.get() != '\n') {
                throw new IOException("record of " + head[0] + " not terminated");
            }
            records.add(new Record(head[0], bytes));
        }
        return records;
    }

    private static String line(ByteBuffer in) throws IOException {
        int start = in.position();
        while (in.hasRemaining()) {
            if (in.get() == '\n') {
                return new String(in.array(), start, in.position() - start - 1, StandardCharsets.US_ASCII);
            }
        }
        throw new IOException("line cut short");
    }

    private static void writeFile(Path p, byte[] bytes, boolean force) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            if (force) {
                ch.force(true);
            }
        }
    }

    /** Whether the file is durable now or gone; false (the batch is still needed) when forcing failed. */
    private boolean force(Path p) {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            ch.force(true);
            forced.incrementAndGet();
            return true;
        } catch (NoSuchFileException gone) {
            return true; // delivered or set aside meanwhile: nothing to keep
        } catch (IOException e) {
            LOG.warnf("Could not force spooled write %s: %s", p.getFileName(), e.getMessage());
            return false;
        }
    }

    /** The write's own file was moved to {@code to} (set aside): forces it there first if its data was never forced. */
    void movedOut(String name, Path to) {
        Batch b = unforced.get(name);
        if (b != null && force(to)) {
            forget(name);
        }
    }

    static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Makes renames durable; not every file system allows opening a directory, which is fine. */
    static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // best effort: the data itself was already forced
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a leftover .tmp- file is removed when the spool next opens
        }
    }

    /** A write waiting for its group; {@code done} and {@code failure} are set and read under the commit lock. */
    static final class Pending {
        final String name;
        final byte[] bytes;
        boolean done;
        Throwable failure;

        Pending(String name, byte[] bytes) {
            this.name = name;
            this.bytes = bytes;
        }
    }

    record Record(String name, byte[] bytes) {
    }

    /** A committed batch file and the writes in it whose own files are not forced (or deleted) yet. */
    private final class Batch {
        final Path file;
        final long committedNanos;
        final Set<String> open = ConcurrentHashMap.newKeySet();
        private final AtomicBoolean deleted = new AtomicBoolean();

        Batch(Path file, long committedNanos) {
            this.file = file;
            this.committedNanos = committedNanos;
        }

        void settled(String name) {
            if (open.remove(name) && open.isEmpty() && deleted.compareAndSet(false, true)) {
                batches.remove(this);
                deleteQuietly(file);
            }
        }
    }
}
