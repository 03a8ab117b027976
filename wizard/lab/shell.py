"""Node command set (placeholder, filled in below)."""
def run_command(state, node, text):
    return "", f"bash: {text.split()[0] if text.split() else ''}: command not found\n", 127
