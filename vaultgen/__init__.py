"""vaultgen: digest posts of research papers → a linked Obsidian vault.

The pipeline is parse → resolve → render → write; ``check`` and ``graph`` read a vault.
"""

__version__ = "0.1.0"
