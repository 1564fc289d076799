// Placeholder until the Kafka broker launcher lands (issue 5): starts nothing.
export default async function setup(): Promise<void> {}
