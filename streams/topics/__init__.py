"""What the tools do with the Kafka topics: create them, produce events to the input
topic, read and replay the dead letters."""
