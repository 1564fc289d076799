// The Apache Kafka Java client (kafka-clients, from the broker's Maven-resolved libs) as an
// independent producer and consumer for integration tests: it writes compressed record batches
// the way a JVM or collector producer does, and reads what agent-credit writes.
// The tests compile it once per test process (javac, test/integration/support/java-client.ts) and run
// the class; by hand it also runs as a source file (JEP 330): java -cp '<libs>/*' KafkaJavaClient.java <mode> ...
//
//   produce <bootstrap> <compression> <records-file>
//     records-file: repeated [int32 topic length][topic UTF-8][int32 partition, -1 = by key]
//     [int32 key length, -1 = null][key][int32 value length][value], big-endian.
//     Idempotent, acks=all, linger 50 ms, so records share (compressed) batches. Prints "produced N".
//   compress <zstd|snappy|x-snappy-framed|lz4|zlib> <in-file> <out-file>
//     zstd-jni Zstd.compress (one zstd frame), snappy-java Snappy.compress (one raw snappy block,
//     as golang/snappy Encode writes it) or SnappyFramedOutputStream (the framing format),
//     lz4-java LZ4FrameOutputStream (an LZ4 frame), java.util.zip DeflaterOutputStream (zlib):
//     independent encoders for HTTP body tests.
//   consume <bootstrap> <topic>[,<topic>...] <count> <timeoutMs>
//     read_committed, from the beginning, every partition; prints one line per record:
//     topic TAB partition TAB offset TAB base64(value). Exits 2 if fewer than count arrived.
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.*;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public final class KafkaJavaClient {
  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("produce") && args.length == 4) produce(args[1], args[2], args[3]);
    else if (args.length > 0 && args[0].equals("compress") && args.length == 4) compress(args[1], args[2], args[3]);
    else if (args.length > 0 && args[0].equals("consume") && args.length == 5) consume(args[1], args[2].split(","), Integer.parseInt(args[3]), Long.parseLong(args[4]));
    else {
      System.err.println("usage: produce <bootstrap> <compression> <records-file> | consume <bootstrap> <topics> <count> <timeoutMs>");
      System.exit(64);
    }
  }

  private static byte[] readBytes(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0) return null;
    byte[] b = new byte[n];
    in.readFully(b);
    return b;
  }

  static void compress(String codec, String in, String out) throws Exception {
    byte[] data = java.nio.file.Files.readAllBytes(java.nio.file.Path.of(in));
    byte[] packed;
    if (codec.equals("zstd")) packed = com.github.luben.zstd.Zstd.compress(data);
    else if (codec.equals("snappy")) packed = org.xerial.snappy.Snappy.compress(data);
    else {
      java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
      java.io.OutputStream os;
      if (codec.equals("x-snappy-framed")) os = new org.xerial.snappy.SnappyFramedOutputStream(buf);
      else if (codec.equals("lz4")) os = new net.jpountz.lz4.LZ4FrameOutputStream(buf);
      else if (codec.equals("zlib")) os = new java.util.zip.DeflaterOutputStream(buf);
      else throw new IllegalArgumentException("codec: zstd, snappy, x-snappy-framed, lz4 or zlib, got " + codec);
      os.write(data);
      os.close();
      packed = buf.toByteArray();
    }
    java.nio.file.Files.write(java.nio.file.Path.of(out), packed);
  }

  static void produce(String bootstrap, String compression, String file) throws Exception {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression);
    p.put(ProducerConfig.LINGER_MS_CONFIG, "50");
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, "262144");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    try (DataInputStream in = new DataInputStream(new BufferedInputStream(new FileInputStream(file)));
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
      while (true) {
        byte[] topic;
        try {
          topic = readBytes(in);
        } catch (EOFException end) {
          break;
        }
        int partition = in.readInt();
        byte[] key = readBytes(in);
        byte[] value = readBytes(in);
        String t = new String(topic, StandardCharsets.UTF_8);
        sent.add(producer.send(new ProducerRecord<>(t, partition < 0 ? null : partition, key, value)));
      }
      producer.flush();
      for (Future<RecordMetadata> f : sent) f.get();
    }
    System.out.println("produced " + sent.size());
  }

  static void consume(String bootstrap, String[] topics, int count, long timeoutMs) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    int got = 0;
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
      List<TopicPartition> tps = new ArrayList<>();
      for (String t : topics) for (PartitionInfo pi : consumer.partitionsFor(t, Duration.ofMillis(timeoutMs))) tps.add(new TopicPartition(t, pi.partition()));
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      long deadline = System.currentTimeMillis() + timeoutMs;
      Base64.Encoder b64 = Base64.getEncoder();
      StringBuilder out = new StringBuilder();
      while (got < count && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          out.append(r.topic()).append('\t').append(r.partition()).append('\t').append(r.offset()).append('\t')
              .append(r.value() == null ? "" : b64.encodeToString(r.value())).append('\n');
          got++;
        }
      }
      System.out.print(out);
    }
    System.out.flush();
    if (got < count) System.exit(2);
  }
}
