"""The notifier: lifecycle events become notices in the console and messages on people's channels."""
