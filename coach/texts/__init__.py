"""The texts a patient sees and hears, one folder per language (``en``, ...)."""
