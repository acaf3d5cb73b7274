"""Streamlit building blocks shared by the page scripts in ``app_pages/``.

Charts, views and session helpers live here so each page script stays thin. Packages under
``genre/``, ``audio/``, ``mood/`` and ``gan/`` never import it.
"""
