"""The music library: an SQLite index of the user's audio files with what the model heard.

``schema`` opens and migrates the database, ``analysis`` turns a file into a row's worth of
facts, ``indexer`` decides what needs analysing, ``engines`` run the analysis (local threads or
Ray), ``similarity`` finds tracks alike, ``export`` writes playlists.
"""
