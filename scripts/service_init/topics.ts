/**
 * Pre-creating Kafka topics, so consumers can subscribe before the first event (kafkajs subscribed
 * to a missing topic sometimes receives nothing). The mechanism lives in the kit.
 * @module
 */
export { ensureTopics, topicPartitions, type TopicsResult } from "@stocklet/shared/kafka";
