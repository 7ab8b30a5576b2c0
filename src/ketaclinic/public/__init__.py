"""The public face of the clinic: education pages, the self-screen, intake leads, and the
patient portal."""
