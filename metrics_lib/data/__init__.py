"""The data layer: the contract, configuration and mapping, reading, validation and engine checks."""
