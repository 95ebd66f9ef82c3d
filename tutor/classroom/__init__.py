"""A class: the course folder (``course``), its roster (``roster``) and the class database
that keeps every student's results (``database``), read and written by the class server's
sessions and the instructor's commands. Results never live in files a student can touch."""
