/* SPDX-License-Identifier: GPL-3.0-or-later */
/* empdir-gen: deterministic, realistic test data for the Employee Directory.
 *
 * Writes N employees to a new SQLite file with the deployed `employees` table
 * (or the pre-migration layout with --legacy), or to an RFC 4180 CSV file for
 * PostgreSQL's COPY ... CSV HEADER. The same --seed gives the same rows in
 * every format; row i depends only on (seed, i), so a smaller N is a prefix
 * of a larger one, and --hostile or --legacy leave the other rows' content
 * alone. Names come from many cultures (about 85% ASCII), titles from a few
 * hundred combinations, and common values are more frequent than rare ones
 * (Zipf-like picks), so searches behave as on a real directory.
 *
 * Anchor rows, always the first rows (as many as --rows allows: all of them
 * from N >= 9), with fixed ids, the same for every seed. Each fullname occurs
 * exactly once in the output, and the surnames "Lovelace" and "Ångström"
 * occur nowhere else. In --legacy files their ids are 1..9 instead.
 *   00000000-0000-4000-8000-000000000001 Ada Lovelace | London | Mathematician
 *       | ["Mac User"]
 *   ...-000000000002 Zoë Ångström | Stockholm, Sweden | Principal Physicist
 *       | ["Photographer", "Runner"]
 *   ...-000000000003 山田太郎 | 東京 | Senior Software Engineer | []
 *   ...-000000000004 José Müller | Zürich, Switzerland | Staff Accountant
 *       | ["Coffee Snob", "Dog Person"]
 *   ...-000000000005 محمد عبد الله (Arabic, RTL; the location is RTL too)
 *   ...-000000000006 अनन्या शर्मा (Devanagari with combining vowel signs)
 *   ...-000000000007 Nguyễn Thị Minh Khai | Hà Nội, Việt Nam (stacked marks)
 *   ...-000000000008 the widest valid row: fullname, location and job_title
 *       of exactly 100 characters (more bytes), 20 badges, one of 50 chars
 *   ...-000000000009 Seán O'Brien | Dublin, Ireland (an apostrophe)
 *
 * --hostile turns about 1% of the other rows into attacks on the terminal
 * and on the contract (escape sequences, C1 controls, bidi overrides, ...).
 * Every other row passes employee_normalize() unchanged; --check proves it.
 * Every row, hostile or not, is valid UTF-8 with text fields of at most 100
 * characters, so PostgreSQL's varchar(100) columns accept the CSV. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/buf.h"
#include "core/employee.h"
#include "core/text.h"

#define PROG "empdir-gen"
#define N(a) (sizeof(a) / sizeof((a)[0]))
#define LIST(a) {(a), N(a)}
#define MAX_ROWS 1000000000ULL
#define HOSTILE_PER_MILLE 10

/* ---- the data ---- */

struct list {
	const char *const *v;
	size_t n;
};

static const char *const en_given[] = {
	"James", "Mary", "John", "Jennifer", "Michael", "Linda", "David", "Sarah", "Robert", "Emily",
	"William", "Jessica", "Daniel", "Emma", "Thomas", "Olivia", "Christopher", "Laura", "Matthew",
	"Ashley", "Andrew", "Megan", "Joseph", "Rachel", "Ryan", "Hannah", "Brian", "Nicole", "Kevin",
	"Amanda", "Jason", "Rebecca", "Eric", "Stephanie", "Steven", "Katherine", "Mark", "Samantha",
	"Paul", "Lauren", "Richard", "Elizabeth", "Charles", "Michelle", "Anthony", "Anna", "Benjamin",
	"Grace", "Nathan", "Chloe", "Adam", "Victoria", "Tyler", "Natalie", "Jacob", "Abigail",
	"Samuel", "Madison", "Alexander", "Charlotte", "Patrick", "Sophia", "Jonathan", "Isabella",
	"Ethan", "Amelia", "Noah", "Harper", "Liam", "Evelyn", "Owen", "Alice", "Caleb", "Ruth",
	"Isaac", "Margaret", "Gregory", "Judith", "Dennis", "Doris", "Raymond", "Beverly", "Harold",
	"Gwendolyn", "Cornelius", "Imogen", "Bartholomew", "Philippa", "Thaddeus", "Rosalind",
};
static const char *const en_family[] = {
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
	"Taylor", "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark",
	"Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Hill", "Green",
	"Adams", "Baker", "Nelson", "Carter", "Mitchell", "Roberts", "Turner", "Phillips", "Campbell",
	"Parker", "Evans", "Edwards", "Collins", "Stewart", "Morris", "Murphy", "Cook", "Rogers",
	"Morgan", "Cooper", "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Cox", "Ward", "Watson",
	"Brooks", "Wood", "Bennett", "Gray", "Hughes", "Price", "Sanders", "Myers", "Long", "Ross",
	"Foster", "Powell", "Jenkins", "Perry", "Russell", "Sullivan", "Bell", "Coleman", "Butler",
	"Henderson", "Barnes", "Fisher", "Simmons", "Graham", "Marshall", "Owens", "Harrison",
	"Gibson", "Wallace", "Hamilton", "Ellis", "Ford", "Porter", "Hunter", "Palmer", "Shaw",
	"Holmes", "Rice", "Hunt", "Black", "Daniels", "Stone", "Knight", "Ferguson", "Rose", "Dunn",
	"Hudson", "Burke", "Hart", "Spencer", "Lane", "Pierce", "Wells", "Armstrong", "Berry",
	"O'Brien", "O'Connor", "McDonald", "MacLeod", "Fitzgerald", "Pemberton", "Quigley",
	"Hawthorne", "Kingsley", "Winterbottom", "Featherstonehaugh", "Cholmondeley", "Throckmorton",
};
/* The long tail: "Ashford", "Thornbury", ... (never "Lovelace"). */
static const char *const en_prefix[] = {
	"Ash", "Black", "Bright", "Brook", "Cole", "Cross", "Fair", "Green", "Hal", "Hazel", "Holl",
	"Kirk", "Lang", "Lock", "Marsh", "Mill", "North", "Oak", "Pen", "Red", "Ros", "Rush", "South",
	"Stan", "Thorn", "West", "Whit", "Wind", "Elm", "Hay",
};
static const char *const en_suffix[] = {
	"ford", "ley", "ton", "wood", "field", "well", "worth", "by", "ham", "croft", "man", "stead",
	"more", "wick", "cliffe", "bury", "combe", "dale", "hurst", "brook",
};
static const char *const es_given[] = {
	"Carlos", "Maria", "Juan", "Ana", "Luis", "Carmen", "Jorge", "Laura", "Miguel", "Isabel",
	"Pedro", "Lucia", "Manuel", "Elena", "Diego", "Patricia", "Javier", "Rosa", "Alejandro",
	"Gabriela", "Fernando", "Daniela", "Ricardo", "Valentina", "Pablo", "Camila", "Antonio",
	"Paula", "Francisco", "Marta", "Rafael", "Cristina", "Sergio", "Adriana", "Eduardo", "Alicia",
	"Roberto", "Mariana", "Guadalupe", "Esteban", "Ximena", "Rodrigo",
};
static const char *const es_family[] = {
	"Garcia", "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Perez", "Sanchez",
	"Ramirez", "Torres", "Flores", "Rivera", "Gomez", "Diaz", "Cruz", "Morales", "Reyes",
	"Gutierrez", "Ortiz", "Ramos", "Castillo", "Vargas", "Romero", "Alvarez", "Mendoza", "Ruiz",
	"Jimenez", "Moreno", "Herrera", "Medina", "Aguilar", "Vega", "Castro", "Delgado", "Guerrero",
	"Navarro", "Rojas", "Salazar", "Cabrera", "Dominguez", "Figueroa", "Montoya", "Zavala",
	"Villanueva", "Echeverria", "Arriaga", "Ybarra", "Goicoechea",
};
static const char *const de_given[] = {
	"Lukas", "Anna", "Thomas", "Julia", "Michael", "Lena", "Andreas", "Laura", "Stefan", "Katharina",
	"Markus", "Sabine", "Frank", "Petra", "Felix", "Claudia", "Jonas", "Monika", "Leon", "Andrea",
	"Maximilian", "Nina", "Paul", "Lea", "Tobias", "Hannah", "Florian", "Sophie", "Sebastian",
	"Johanna", "Klaus", "Franziska", "Hans", "Heike", "Peter", "Ursula", "Wolfgang", "Greta",
	"Dietrich", "Frieda",
};
static const char *const de_family[] = {
	"Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
	"Koch", "Richter", "Klein", "Wolf", "Schroeder", "Neumann", "Schwarz", "Zimmermann", "Braun",
	"Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Krause", "Meier", "Lehmann", "Schmid",
	"Schulze", "Maier", "Koehler", "Herrmann", "Walter", "Mayer", "Huber", "Kaiser", "Fuchs",
	"Peters", "Lang", "Scholz", "Moeller", "Weiss", "Jung", "Hahn", "Vogel", "Friedrich", "Keller",
	"Berger", "Winkler", "Roth", "Beck", "Lorenz", "Baumann", "Franke", "Albrecht", "Schuster",
	"Ludwig", "Winter", "Kraus", "Schumacher", "Vogt", "Stein", "Jaeger", "Sommer", "Seidel",
	"Brandt", "Haas", "Schreiber", "Graf", "Dietrich", "Ziegler", "Kuhn", "Pohl", "Engel", "Horn",
	"Busch", "Bergmann", "Voigt", "Sauer", "Arnold", "Pfeiffer", "Zwingli", "Oberhollenzer",
};
static const char *const de_prefix[] = {
	"Stein", "Wald", "Berg", "Hoch", "Alt", "Neu", "Kirch", "Eich", "Linden", "Sonnen", "Rosen",
	"Brunn", "Falken", "Adler", "Lichten", "Wiesen", "Blumen", "Feld", "Hohen", "Dorn",
};
static const char *const de_suffix[] = {
	"mann", "berger", "hof", "bach", "feld", "thal", "stein", "burg", "meier", "hauser", "ecker",
	"huber", "reiter", "wald",
};
static const char *const in_given[] = {
	"Priya", "Rahul", "Amit", "Anjali", "Rohan", "Sneha", "Vikram", "Deepa", "Arjun", "Kavya",
	"Sanjay", "Pooja", "Ravi", "Neha", "Aditya", "Divya", "Karthik", "Lakshmi", "Suresh", "Meera",
	"Vijay", "Ananya", "Rajesh", "Shreya", "Harsha", "Nandini", "Venkatesh", "Ishaan",
};
static const char *const in_family[] = {
	"Sharma", "Patel", "Gupta", "Singh", "Kumar", "Reddy", "Iyer", "Nair", "Rao", "Mehta",
	"Joshi", "Shah", "Desai", "Verma", "Chopra", "Malhotra", "Bhat", "Menon", "Pillai",
	"Krishnan", "Subramanian", "Chatterjee", "Banerjee", "Mukherjee", "Venkataraman",
	"Ramachandran", "Bhattacharya",
};
static const char *const zh_py_given[] = {
	"Wei", "Jing", "Li", "Ming", "Hui", "Xin", "Yan", "Lei", "Jun", "Hao", "Yu", "Fang", "Tao",
	"Qiang", "Xiaoming", "Jiahui", "Zihan", "Yichen", "Xiaoling", "Zhiwei",
};
static const char *const zh_py_family[] = {
	"Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun",
	"Ma", "Zhu", "Hu", "Guo", "He", "Lin", "Luo", "Zheng", "Liang", "Xie", "Ouyang",
};
static const char *const ja_ro_given[] = {
	"Haruto", "Yui", "Sota", "Hina", "Ren", "Sakura", "Kenji", "Aoi", "Takeshi", "Yuki",
	"Hiroshi", "Akiko", "Daiki", "Naoko", "Kazuki", "Misaki",
};
static const char *const ja_ro_family[] = {
	"Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura",
	"Kobayashi", "Kato", "Yoshida", "Yamada", "Sasaki", "Matsumoto", "Inoue", "Kimura",
	"Hayashi", "Shimizu", "Higashikuni",
};
static const char *const ie_given[] = {
	"Sean", "Niamh", "Liam", "Aoife", "Ciaran", "Siobhan", "Declan", "Orla", "Eoin", "Roisin",
	"Cormac", "Fiona", "Padraig", "Ailsa", "Callum", "Ewan", "Mairead", "Fergus",
};
static const char *const ie_family[] = {
	"Murphy", "Kelly", "O'Sullivan", "Walsh", "O'Brien", "Byrne", "Ryan", "O'Connor", "O'Neill",
	"McCarthy", "Doyle", "Gallagher", "Kennedy", "Lynch", "Quinn", "MacDonald", "MacKenzie",
	"Fraser", "McGregor", "Fitzpatrick", "Mac an tSaoi",
};
static const char *const af_given[] = {
	"Chinedu", "Ngozi", "Emeka", "Adaeze", "Oluwaseun", "Folake", "Tunde", "Amara", "Kwame",
	"Ama", "Kofi", "Abena", "Thabo", "Lerato", "Sipho", "Wanjiru", "Kamau", "Zanele", "Ayodele",
};
static const char *const af_family[] = {
	"Okafor", "Okonkwo", "Adeyemi", "Balogun", "Nwosu", "Eze", "Mensah", "Asante", "Owusu",
	"Boateng", "Ndlovu", "Dlamini", "Khumalo", "Mwangi", "Otieno", "Kamara", "Diallo", "Traore",
	"Oyelaran-Adebayo",
};
static const char *const eu_given[] = {
	"Marco", "Giulia", "Luca", "Francesca", "Matteo", "Chiara", "Alessandro", "Sofia", "Pierre",
	"Camille", "Louis", "Manon", "Julien", "Claire", "Antoine", "Juliette", "Daan", "Sanne",
	"Bram", "Femke", "Sven", "Lotte", "Giacomo", "Ottavia",
};
static const char *const eu_family[] = {
	"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino",
	"Greco", "Bruno", "Gallo", "Conti", "Bernard", "Dubois", "Durand", "Leroy", "Moreau",
	"Petit", "de Jong", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser",
	"Smit", "van der Meer", "Bevilacqua", "Quattrocchi",
};
/* ---- non-ASCII cultures ---- */
static const char *const esx_given[] = {
	"José", "María", "Sofía", "Ángel", "Joaquín", "Inés", "Martín", "Lucía", "Raúl", "Andrés",
	"Begoña", "Ramón", "Íñigo", "Verónica", "Mónica", "Óscar", "Jesús", "Nicolás", "Sebastián",
	"Matías", "João", "Conceição", "Gonçalo", "Simão", "Leonor",
};
static const char *const esx_family[] = {
	"García", "Fernández", "Rodríguez", "González", "Martínez", "López", "Sánchez", "Pérez",
	"Gómez", "Díaz", "Hernández", "Jiménez", "Álvarez", "Muñoz", "Núñez", "Gutiérrez", "Ibáñez",
	"Peña", "Cortés", "Méndez", "Gonçalves", "Magalhães", "Araújo", "Simões", "Brandão",
	"Falcão", "Santos", "Silva",
};
static const char *const dex_given[] = {
	"Jürgen", "Jörg", "Björn", "Günter", "Dörte", "Käthe", "Bärbel", "Sören", "Özlem", "Renée",
	"Lena", "Jonas",
};
static const char *const dex_family[] = {
	"Müller", "Schäfer", "Krüger", "Groß", "Weiß", "Böhm", "Köhler", "Schröder", "Möller",
	"Günther", "Jäger", "Krämer", "Fröhlich", "Hübner", "Kühn", "Löwe", "Schütz", "Süß",
	"Straßburger", "Fußmann",
};
static const char *const pl_given_m[] = {
	"Łukasz", "Paweł", "Michał", "Piotr", "Krzysztof", "Tomasz", "Jakub", "Wojciech", "Grzegorz",
	"Bartłomiej",
};
static const char *const pl_given_f[] = {
	"Małgorzata", "Agnieszka", "Katarzyna", "Zofia", "Joanna", "Magdalena", "Elżbieta", "Ewa",
	"Aleksandra", "Józefa",
};
static const char *const pl_family_m[] = {
	"Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski",
	"Zieliński", "Szymański", "Woźniak", "Dąbrowski", "Kozłowski", "Mazur", "Wróbel", "Żak",
	"Błaszczykowski",
};
static const char *const pl_family_f[] = {
	"Nowak", "Kowalska", "Wiśniewska", "Wójcik", "Kowalczyk", "Kamińska", "Lewandowska",
	"Zielińska", "Szymańska", "Woźniak", "Dąbrowska", "Kozłowska", "Mazur", "Wróbel", "Żak",
	"Błaszczykowska",
};
static const char *const nord_given[] = {
	"Søren", "Åsa", "Bjørn", "Ingrid", "Håkon", "Astrid", "Ørjan", "Linnéa", "Ásgeir", "Þóra",
	"Sigríður", "Jón", "Guðrún", "Mette", "Kjersti", "Sindre", "Maja", "Elin",
};
static const char *const nord_family[] = {
	"Hansen", "Sørensen", "Jørgensen", "Lindqvist", "Bergström", "Nyström", "Åkesson", "Ørsted",
	"Løkke", "Sjöberg", "Öberg", "Sigurðsson", "Jónsdóttir", "Þórðarson", "Ström", "Kjær",
	"Bjørnstad", "Halvorsen", "Lindgren", "Gustafsson",
};
static const char *const fr_given[] = {
	"François", "Hélène", "Chloé", "Zoë", "Noël", "Anaïs", "Loïc", "Gaëlle", "Céline", "Jérôme",
	"Frédéric", "Mélanie", "Benoît", "Clémence", "Étienne", "Thérèse",
};
static const char *const fr_family[] = {
	"Lefèvre", "Bérard", "Girard", "Rousseau", "Fontaine", "Chevalier", "Lemaître", "Gauthier",
	"Mercier", "Bélanger", "Côté", "Gagné", "Lévesque", "Pelletier", "Bouchard", "Thériault",
};
static const char *const tr_given[] = {
	"Mehmet", "Ayşe", "Mustafa", "Fatma", "Emine", "Çağan", "Gülşen", "Özge", "Şükrü", "İbrahim",
	"Ömer", "Zeynep",
};
static const char *const tr_family[] = {
	"Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Öztürk", "Aydın", "Özdemir",
	"Arslan", "Doğan", "Karaağaçlı",
};
static const char *const cz_given[] = {
	"Jiří", "Tomáš", "Lucie", "Kateřina", "Petr", "Zuzana", "Ondřej", "Věra", "Jan", "Tereza",
};
static const char *const cz_family[] = {
	"Novák", "Svoboda", "Dvořák", "Černý", "Procházka", "Kučera", "Veselý", "Horák", "Němec",
	"Král", "Růžička",
};
static const char *const zh_given[] = {
	"伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
	"涛", "明", "超", "秀兰", "霞", "子涵", "浩然", "欣怡", "梓萱", "宇轩", "一诺", "雨桐",
};
static const char *const zh_family[] = {
	"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡",
	"郭", "何", "林", "罗", "郑", "梁", "谢", "欧阳", "司马",
};
/* No 太郎: the anchor 山田太郎 stays unique. */
static const char *const ja_given[] = {
	"翔太", "陽菜", "結衣", "大輝", "美咲", "健太", "さくら", "蓮", "陽翔", "悠真", "葵", "凛",
	"芽依", "湊", "樹", "結菜", "花子", "一郎", "健一", "直美", "由美子",
};
static const char *const ja_family[] = {
	"佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田",
	"山田", "佐々木", "山口", "松本", "井上", "木村", "林", "清水", "山崎",
};
static const char *const ko_given[] = {
	"민준", "서연", "지훈", "하은", "도윤", "서준", "지우", "예준", "수아", "시우", "지민",
	"하준", "서윤", "주원", "지아", "유진", "현우", "은서", "건우", "민서",
};
static const char *const ko_family[] = {
	"김", "이", "박", "최", "정", "강", "조", "윤", "장", "임", "한", "오", "서", "신", "권",
	"황", "안", "송", "류", "홍",
};
static const char *const el_given_m[] = {
	"Γιώργος", "Νίκος", "Δημήτρης", "Κώστας", "Γιάννης", "Παναγιώτης", "Χρήστος",
	"Αλέξανδρος", "Σπύρος", "Θανάσης",
};
static const char *const el_given_f[] = {
	"Μαρία", "Ελένη", "Κατερίνα", "Σοφία", "Αναστασία", "Δέσποινα", "Βασιλική", "Ευαγγελία",
	"Χριστίνα", "Ιωάννα",
};
static const char *const el_family_m[] = {
	"Παπαδόπουλος", "Οικονόμου", "Γεωργίου", "Νικολάου", "Ιωάννου", "Βασιλείου", "Παπαδάκης",
	"Αντωνίου", "Κωνσταντίνου", "Μακρής", "Καραγιάννης",
};
static const char *const el_family_f[] = {
	"Παπαδοπούλου", "Οικονόμου", "Γεωργίου", "Νικολάου", "Ιωάννου", "Βασιλείου", "Παπαδάκη",
	"Αντωνίου", "Κωνσταντίνου", "Μακρή", "Καραγιάννη",
};
static const char *const ru_given_m[] = {
	"Александр", "Дмитрий", "Максим", "Сергей", "Андрей", "Алексей", "Иван", "Михаил",
	"Николай", "Владимир", "Артём",
};
static const char *const ru_given_f[] = {
	"Анна", "Мария", "Елена", "Ольга", "Наталья", "Татьяна", "Екатерина", "Светлана", "Ирина",
	"Юлия", "Дарья",
};
static const char *const ru_family_m[] = {
	"Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
	"Новиков", "Фёдоров", "Морозов", "Волков", "Лебедев", "Козлов",
};
static const char *const ru_family_f[] = {
	"Иванова", "Смирнова", "Кузнецова", "Попова", "Васильева", "Петрова", "Соколова",
	"Михайлова", "Новикова", "Фёдорова", "Морозова", "Волкова", "Лебедева", "Козлова",
};
static const char *const uk_given_m[] = {
	"Олександр", "Андрій", "Тарас", "Богдан", "Дмитро", "Юрій", "Віктор",
};
static const char *const uk_given_f[] = {
	"Оксана", "Олена", "Ірина", "Наталія", "Тетяна", "Ганна", "Юлія",
};
static const char *const uk_family[] = {
	"Шевченко", "Коваленко", "Бондаренко", "Ткаченко", "Кравченко", "Мельник", "Бойко",
	"Ковальчук", "Олійник", "Лисенко",
};
static const char *const ar_given[] = {
	"محمد", "أحمد", "علي", "فاطمة", "عائشة", "يوسف", "عمر", "خالد", "نور", "ليلى", "مريم",
	"حسن", "سارة", "إبراهيم",
};
static const char *const ar_family[] = {
	"الحسن", "العلي", "المنصور", "حداد", "خوري", "الشامي", "عبد الله", "السيد", "العمري",
	"القحطاني", "الزهراني", "النجار",
};
static const char *const he_given[] = {
	"דוד", "משה", "יוסף", "שרה", "רחל", "נועה", "יעל", "אבי", "תמר", "איתי", "מיכל", "אורי",
};
static const char *const he_family[] = {
	"כהן", "לוי", "מזרחי", "פרץ", "ביטון", "אברהם", "פרידמן", "שפירא", "אזולאי", "גולדברג",
};
static const char *const hi_given[] = {
	"अनन्या", "आरव", "विवान", "अदिति", "प्रिया", "राहुल", "सौरभ", "दीपिका", "कृष्ण", "लक्ष्मी",
	"अर्जुन", "श्रेया",
};
static const char *const hi_family[] = {
	"शर्मा", "वर्मा", "गुप्ता", "सिंह", "पटेल", "कुमार", "मिश्रा", "त्रिपाठी", "चौधरी", "जोशी",
	"श्रीवास्तव",
};
static const char *const vi_family[] = {
	"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
	"Hồ", "Ngô", "Dương", "Lý",
};
static const char *const vi_middle_m[] = {"Văn", "Đức", "Minh", "Quang", "Hữu"};
static const char *const vi_middle_f[] = {"Thị", "Ngọc", "Thu", "Thanh", "Mỹ"};
static const char *const vi_given_m[] = {
	"Hùng", "Dũng", "Tuấn", "Đức", "Khánh", "Quân", "Phúc", "Thắng", "Cường", "Huy",
};
static const char *const vi_given_f[] = {
	"Hương", "Lan", "Phương", "Thảo", "Quỳnh", "Linh", "Trang", "Ngân", "Hạnh", "Yến",
};

/* Offices near where a culture's names are common, picked some of the time. */
static const char *const home_es[] = {"Mexico City, Mexico", "Madrid, Spain", "Buenos Aires, Argentina", "Miami, USA"};
static const char *const home_esx[] = {"Ciudad de México, México", "Madrid, España", "São Paulo, Brasil", "Lisboa, Portugal", "Bogotá, Colombia"};
static const char *const home_de[] = {"Berlin, Germany", "Munich, Germany", "Hamburg, Germany", "Vienna, Austria"};
static const char *const home_dex[] = {"München, Deutschland", "Zürich, Schweiz", "Köln, Deutschland", "Wien, Österreich"};
static const char *const home_in[] = {"Bengaluru, India", "Hyderabad, India", "Pune, India", "Chennai, India"};
static const char *const home_hi[] = {"नई दिल्ली, भारत", "Bengaluru, India", "Mumbai, India"};
static const char *const home_zh[] = {"北京", "上海", "深圳", "Shanghai, China", "台北"};
static const char *const home_ja[] = {"東京", "大阪", "Tokyo, Japan"};
static const char *const home_ko[] = {"서울", "Seoul, South Korea", "판교"};
static const char *const home_el[] = {"Αθήνα, Ελλάδα", "Athens, Greece", "Θεσσαλονίκη"};
static const char *const home_ru[] = {"Москва, Россия", "Санкт-Петербург", "Yerevan, Armenia"};
static const char *const home_uk[] = {"Київ, Україна", "Львів, Україна", "Kyiv, Ukraine"};
static const char *const home_ar[] = {"دبي، الإمارات", "القاهرة، مصر", "Dubai, UAE", "Amman, Jordan"};
static const char *const home_he[] = {"תל אביב", "Tel Aviv, Israel", "חיפה"};
static const char *const home_vi[] = {"Hà Nội, Việt Nam", "Thành phố Hồ Chí Minh", "Ho Chi Minh City, Vietnam"};
static const char *const home_pl[] = {"Kraków, Polska", "Warszawa, Polska", "Wrocław, Poland"};
static const char *const home_nord[] = {"Stockholm, Sweden", "København, Danmark", "Oslo, Norway", "Reykjavík, Iceland", "Göteborg, Sverige"};
static const char *const home_fr[] = {"Paris, France", "Montréal, Québec", "Lyon, France"};
static const char *const home_tr[] = {"İstanbul, Türkiye", "Ankara, Türkiye"};
static const char *const home_cz[] = {"Praha, Česko", "Brno, Czech Republic"};
static const char *const home_ie[] = {"Dublin, Ireland", "Edinburgh, Scotland", "Cork, Ireland"};
static const char *const home_af[] = {"Lagos, Nigeria", "Accra, Ghana", "Nairobi, Kenya", "Cape Town, South Africa"};
static const char *const home_eu[] = {"Milan, Italy", "Amsterdam, Netherlands", "Paris, France", "Rome, Italy"};

/* Job titles in the local language, used now and then. */
static const char *const loc_esx[] = {"Ingeniera de Software", "Gerente de Operações", "Contador Público", "Enfermera Jefe"};
static const char *const loc_dex[] = {"Softwareentwicklerin", "Buchhalter", "Teamleiterin Vertrieb", "Geschäftsführer"};
static const char *const loc_fr[] = {"Ingénieure logiciel", "Chef de projet", "Comptable"};
static const char *const loc_zh[] = {"软件工程师", "产品经理", "会计"};
static const char *const loc_ja[] = {"ソフトウェアエンジニア", "営業部長", "経理担当"};
static const char *const loc_ko[] = {"소프트웨어 엔지니어", "마케팅 팀장"};
static const char *const loc_ru[] = {"Инженер-программист", "Бухгалтер", "Руководитель отдела продаж"};
static const char *const loc_el[] = {"Μηχανικός Λογισμικού", "Λογίστρια"};
static const char *const loc_he[] = {"מהנדסת תוכנה", "מנהל מוצר"};
static const char *const loc_ar[] = {"مهندس برمجيات", "محاسب"};
static const char *const loc_hi[] = {"सॉफ़्टवेयर इंजीनियर", "लेखाकार"};
static const char *const loc_vi[] = {"Kỹ sư phần mềm", "Kế toán trưởng"};

enum name_order { GIVEN_FIRST, FAMILY_FIRST };
enum { F_INITIAL = 1, F_COMPOUND_EN = 2, F_COMPOUND_DE = 4, F_DOUBLE = 8 };

struct culture {
	unsigned weight; /* per 1000 */
	enum name_order order;
	const char *sep;
	unsigned flags;
	struct list given_m, given_f, family_m, family_f, middle_m, middle_f, homes, titles;
};

/* The ASCII cultures add up to 850, the others to 150. */
static const struct culture cultures[] = {
	{400, GIVEN_FIRST, " ", F_INITIAL | F_COMPOUND_EN, .given_m = LIST(en_given), .family_m = LIST(en_family)},
	{120, GIVEN_FIRST, " ", F_DOUBLE, .given_m = LIST(es_given), .family_m = LIST(es_family), .homes = LIST(home_es)},
	{70, GIVEN_FIRST, " ", F_COMPOUND_DE, .given_m = LIST(de_given), .family_m = LIST(de_family), .homes = LIST(home_de)},
	{70, GIVEN_FIRST, " ", 0, .given_m = LIST(in_given), .family_m = LIST(in_family), .homes = LIST(home_in)},
	{40, GIVEN_FIRST, " ", 0, .given_m = LIST(zh_py_given), .family_m = LIST(zh_py_family)},
	{20, GIVEN_FIRST, " ", 0, .given_m = LIST(ja_ro_given), .family_m = LIST(ja_ro_family)},
	{30, GIVEN_FIRST, " ", 0, .given_m = LIST(ie_given), .family_m = LIST(ie_family), .homes = LIST(home_ie)},
	{40, GIVEN_FIRST, " ", 0, .given_m = LIST(af_given), .family_m = LIST(af_family), .homes = LIST(home_af)},
	{60, GIVEN_FIRST, " ", 0, .given_m = LIST(eu_given), .family_m = LIST(eu_family), .homes = LIST(home_eu)},
	{21, GIVEN_FIRST, " ", F_DOUBLE, .given_m = LIST(esx_given), .family_m = LIST(esx_family), .homes = LIST(home_esx), .titles = LIST(loc_esx)},
	{15, GIVEN_FIRST, " ", 0, .given_m = LIST(dex_given), .family_m = LIST(dex_family), .homes = LIST(home_dex), .titles = LIST(loc_dex)},
	{10, GIVEN_FIRST, " ", 0, .given_m = LIST(pl_given_m), .given_f = LIST(pl_given_f), .family_m = LIST(pl_family_m), .family_f = LIST(pl_family_f), .homes = LIST(home_pl)},
	{10, GIVEN_FIRST, " ", 0, .given_m = LIST(nord_given), .family_m = LIST(nord_family), .homes = LIST(home_nord)},
	{10, GIVEN_FIRST, " ", 0, .given_m = LIST(fr_given), .family_m = LIST(fr_family), .homes = LIST(home_fr), .titles = LIST(loc_fr)},
	{6, GIVEN_FIRST, " ", 0, .given_m = LIST(tr_given), .family_m = LIST(tr_family), .homes = LIST(home_tr)},
	{6, GIVEN_FIRST, " ", 0, .given_m = LIST(cz_given), .family_m = LIST(cz_family), .homes = LIST(home_cz)},
	{15, FAMILY_FIRST, "", 0, .given_m = LIST(zh_given), .family_m = LIST(zh_family), .homes = LIST(home_zh), .titles = LIST(loc_zh)},
	{10, FAMILY_FIRST, "", 0, .given_m = LIST(ja_given), .family_m = LIST(ja_family), .homes = LIST(home_ja), .titles = LIST(loc_ja)},
	{8, FAMILY_FIRST, "", 0, .given_m = LIST(ko_given), .family_m = LIST(ko_family), .homes = LIST(home_ko), .titles = LIST(loc_ko)},
	{6, GIVEN_FIRST, " ", 0, .given_m = LIST(el_given_m), .given_f = LIST(el_given_f), .family_m = LIST(el_family_m), .family_f = LIST(el_family_f), .homes = LIST(home_el), .titles = LIST(loc_el)},
	{8, GIVEN_FIRST, " ", 0, .given_m = LIST(ru_given_m), .given_f = LIST(ru_given_f), .family_m = LIST(ru_family_m), .family_f = LIST(ru_family_f), .homes = LIST(home_ru), .titles = LIST(loc_ru)},
	{4, GIVEN_FIRST, " ", 0, .given_m = LIST(uk_given_m), .given_f = LIST(uk_given_f), .family_m = LIST(uk_family), .homes = LIST(home_uk)},
	{6, GIVEN_FIRST, " ", 0, .given_m = LIST(ar_given), .family_m = LIST(ar_family), .homes = LIST(home_ar), .titles = LIST(loc_ar)},
	{4, GIVEN_FIRST, " ", 0, .given_m = LIST(he_given), .family_m = LIST(he_family), .homes = LIST(home_he), .titles = LIST(loc_he)},
	{5, GIVEN_FIRST, " ", 0, .given_m = LIST(hi_given), .family_m = LIST(hi_family), .homes = LIST(home_hi), .titles = LIST(loc_hi)},
	{6, FAMILY_FIRST, " ", 0, .given_m = LIST(vi_given_m), .given_f = LIST(vi_given_f), .family_m = LIST(vi_family), .middle_m = LIST(vi_middle_m), .middle_f = LIST(vi_middle_f), .homes = LIST(home_vi), .titles = LIST(loc_vi)},
};

/* Most frequent first: picks favour the start of the list. */
static const char *const offices[] = {
	"Seattle", "New York, USA", "San Francisco, USA", "London, UK", "Austin, USA",
	"Dublin, Ireland", "Berlin, Germany", "Toronto, Canada", "Bengaluru, India", "Singapore",
	"Sydney, Australia", "Chicago, USA", "Boston, USA", "Amsterdam, Netherlands", "Paris, France",
	"Zürich, Switzerland", "São Paulo, Brazil", "Tokyo, Japan", "Vancouver, Canada", "Denver, USA",
	"Atlanta, USA", "Madrid, Spain", "Mexico City, Mexico", "Tel Aviv, Israel", "Stockholm, Sweden",
	"Warsaw, Poland", "Kraków, Poland", "Seoul, South Korea", "Melbourne, Australia",
	"Montréal, Canada", "Munich, Germany", "Barcelona, Spain", "Lisbon, Portugal",
	"Cape Town, South Africa", "Dubai, UAE", "Hong Kong", "Redmond, Building 7", "Portland, USA",
	"Raleigh, USA", "Salt Lake City, USA", "Phoenix, USA", "Manchester, UK", "Edinburgh, UK",
	"Copenhagen, Denmark", "Oslo, Norway", "Helsinki, Finland", "Reykjavík, Iceland",
	"Athens, Greece", "Prague, Czech Republic", "Budapest, Hungary", "Bucharest, Romania",
	"Istanbul, Türkiye", "Cairo, Egypt", "Lagos, Nigeria", "Nairobi, Kenya",
	"Buenos Aires, Argentina", "Bogotá, Colombia", "Santiago, Chile", "Lima, Peru",
	"Auckland, New Zealand", "Manila, Philippines", "Ho Chi Minh City, Vietnam",
	"Jakarta, Indonesia", "Kuala Lumpur, Malaysia", "Shanghai, China", "東京", "Anchorage, USA",
	"Tromsø, Norway", "Ushuaia, Argentina",
};
static const char *const remotes[] = {"Remote", "Remote (US)", "Remote (EU)", "Remote (APAC)", "Remote - Anywhere"};

static const char *const tech_roles[] = {
	"Software Engineer", "Backend Engineer", "Frontend Engineer", "Full Stack Engineer",
	"Data Engineer", "Site Reliability Engineer", "DevOps Engineer", "Data Scientist",
	"Machine Learning Engineer", "Mobile Engineer", "iOS Engineer", "Android Engineer",
	"Security Engineer", "QA Engineer", "Product Designer", "Product Manager", "UX Designer",
	"UX Researcher", "Technical Program Manager", "Data Analyst", "Business Analyst",
	"Solutions Architect", "Cloud Architect", "Platform Engineer", "Network Engineer",
	"Database Administrator", "Systems Administrator", "Test Automation Engineer",
	"Embedded Software Engineer", "Firmware Engineer", "Technical Writer", "Hardware Engineer",
	"Graphics Engineer", "Release Engineer", "Research Scientist", "Compiler Engineer",
};
static const char *const tech_levels[] = {"", "Senior ", "Junior ", "Staff ", "Principal ", "Lead "};
static const char *const gen_roles[] = {
	"Accountant", "Recruiter", "Sales Representative", "Account Executive", "Support Specialist",
	"Financial Analyst", "Marketing Specialist", "Account Manager", "Customer Success Manager",
	"Project Manager", "HR Generalist", "HR Business Partner", "Nurse", "Registered Nurse",
	"Auditor", "Payroll Specialist", "Content Strategist", "Copywriter", "Graphic Designer",
	"Paralegal", "Legal Counsel", "Office Manager", "Executive Assistant", "Procurement Specialist",
	"Buyer", "Logistics Coordinator", "Operations Analyst", "Facilities Coordinator", "Pharmacist",
	"Physician", "Lab Technician", "Research Associate", "Electrician", "Mechanical Engineer",
	"Civil Engineer", "Chemist", "Translator", "Trainer", "Instructional Designer", "Photographer",
	"Event Coordinator", "Social Media Manager", "Community Manager", "Tax Specialist",
};
static const char *const gen_levels[] = {"", "Senior ", "Junior ", "Lead ", "Associate "};
static const char *const departments[] = {
	"Engineering", "Sales", "Finance", "Marketing", "Human Resources", "Customer Support",
	"Operations", "Product", "Design", "Legal", "IT", "Security", "Data Science", "Facilities",
	"Procurement", "Research",
};
static const char *const mgmt_forms[] = {"Manager, ", "Director of ", "Senior Manager, ", "Head of ", "VP of ", "Senior Director of "};
static const char *const plain_titles[] = {
	"Software Engineering Intern", "Intern", "Receptionist", "Scrum Master", "Developer Advocate",
	"Nurse Practitioner", "Agile Coach", "Barista", "Security Guard", "Custodian", "Chef",
	"Driver", "Mail Room Clerk", "Data Protection Officer", "General Counsel", "Ombudsperson",
	"Chief Operating Officer", "Chief Financial Officer", "Chief Technology Officer",
	"Chief Executive Officer",
};

static const char *const badge_names[] = {
	"Mac User", "Coffee Snob", "Dog Person", "Team Lead", "Runner", "Photographer", "Cat Person",
	"Linux User", "Bookworm", "Gamer", "Hiker", "Cyclist", "Foodie", "Mentor", "Musician",
	"Traveler", "On Call", "Windows User", "Tea Drinker", "Early Bird", "Night Owl", "Vegetarian",
	"Yogi", "Chess Player", "Board Gamer", "Gardener", "Public Speaker", "Podcaster",
	"First Aider", "Fire Warden", "Polyglot", "Volunteer", "Open Source Contributor",
	"Marathoner", "Hackathon Winner", "Ten-Year Club", "Café Regular", "Fußball Fan",
	"Ski Instructor", "Karaoke Star",
};
/* Cumulative per-mille for 0..5 badges. */
static const unsigned badge_count_cdf[] = {200, 450, 700, 850, 950, 1000};

struct anchor {
	const char *id, *fullname, *location, *job_title;
	const char *const *badges; /* NULL-terminated */
};

static const char *const b_ada[] = {"Mac User", NULL};
static const char *const b_zoe[] = {"Photographer", "Runner", NULL};
static const char *const b_none[] = {NULL};
static const char *const b_jose[] = {"Coffee Snob", "Dog Person", NULL};
static const char *const b_ar[] = {"Runner", "Tea Drinker", NULL};
static const char *const b_hi[] = {"Mac User", "Bookworm", "Yogi", NULL};
static const char *const b_wide[] = {
	"Mac User", "Coffee Snob", "Dog Person", "Team Lead", "Runner", "Photographer", "Cat Person",
	"Linux User", "Bookworm", "Gamer", "Hiker", "Cyclist", "Foodie", "Mentor", "Musician",
	"Traveler", "On Call", "Café Regular", "Fußball Fan", "Ganadora del Gran Premio Anual de Innovación 2023!",
	NULL,
};
static const char *const b_sean[] = {"Runner", "Fire Warden", "Early Bird", NULL};

static const struct anchor anchors[] = {
	{"00000000-0000-4000-8000-000000000001", "Ada Lovelace", "London", "Mathematician", b_ada},
	{"00000000-0000-4000-8000-000000000002", "Zoë Ångström", "Stockholm, Sweden", "Principal Physicist", b_zoe},
	{"00000000-0000-4000-8000-000000000003", "山田太郎", "東京", "Senior Software Engineer", b_none},
	{"00000000-0000-4000-8000-000000000004", "José Müller", "Zürich, Switzerland", "Staff Accountant", b_jose},
	{"00000000-0000-4000-8000-000000000005", "محمد عبد الله", "دبي، الإمارات العربية المتحدة", "Software Engineer", b_ar},
	{"00000000-0000-4000-8000-000000000006", "अनन्या शर्मा", "Bengaluru, India", "Data Scientist", b_hi},
	{"00000000-0000-4000-8000-000000000007", "Nguyễn Thị Minh Khai", "Hà Nội, Việt Nam", "Nurse Practitioner", b_none},
	{"00000000-0000-4000-8000-000000000008",
	 "María de los Ángeles Fernández-Villaverde Gutiérrez de la Concepción y Sánchez-Albornoz Núñez de Oña",
	 "Parque Científico-Tecnológico de Bizkaia, Edificio 204, Planta 3ª, 48170 Zamudio, País Vasco, España",
	 "Senior Principal Site Reliability Engineer - Global Payments Infrastructure, Tooling & Observability",
	 b_wide},
	{"00000000-0000-4000-8000-000000000009", "Seán O'Brien", "Dublin, Ireland", "Head of Customer Support", b_sean},
};

/* Terminal and contract attacks for --hostile. Kinds past the plain payloads
 * are built in code. "\xc2\x9b" is U+009B (CSI as a C1 control). */
static const char *const hostile_payloads[] = {
	"\033[2J\033[H", "\033]52;c;aGVsbG8=\007",
	"\033]8;;https://evil.example/\033\\Click here\033]8;;\033\\", "\033[31;1;5m",
	"\033]0;pwned\007", "\rOverwritten", "\010\010\010\010\010", "\u202Egnp.exe",
	"\xc2\x9b" "2J", "\U0001F469\u200D\U0001F4BB \U0001F468\u200D\U0001F469\u200D\U0001F467",
	"Ad\u200Bmin", "\nSecond line", "\tTabbed", "\177", "line\u2028break", "\007",
};
enum { HK_COMBINING = N(hostile_payloads), HK_PADDING, HK_HOMOGLYPH, HK_COUNT };

/* ---- the generator ---- */

struct rng {
	uint64_t s;
};

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* splitmix64: fast, and good enough for test data. */
static uint64_t rng_next(struct rng *r)
{
	r->s += 0x9e3779b97f4a7c15ULL;
	return mix64(r->s);
}

static double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static size_t rng_below(struct rng *r, size_t n)
{
	return (size_t)(rng_unit(r) * (double)n);
}

/* Skewed towards index 0: P(index < k) = sqrt(k / n). */
static size_t rng_zipf(struct rng *r, size_t n)
{
	double u = rng_unit(r);
	return (size_t)(u * u * (double)n);
}

static bool rng_chance(struct rng *r, unsigned per_mille)
{
	return rng_below(r, 1000) < per_mille;
}

static const char *pick(struct rng *r, struct list l)
{
	return l.v[rng_below(r, l.n)];
}

static const char *pick_zipf(struct rng *r, struct list l)
{
	return l.v[rng_zipf(r, l.n)];
}

/* Independent streams per row: content, hostile mutation, legacy encoding. */
enum stream { S_CONTENT = 1, S_HOSTILE = 2, S_LEGACY = 3 };

static struct rng row_rng(uint64_t seed, uint64_t index, enum stream s)
{
	uint64_t base = mix64(seed ^ ((uint64_t)s * 0xd1b54a32d192ed03ULL));
	struct rng r = {mix64(base + index * 0x9e3779b97f4a7c15ULL)};
	return r;
}

static void uuid_from_rng(struct rng *r, char out[37])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	uint64_t hi = rng_next(r), lo = rng_next(r);
	for (int i = 0; i < 8; i++) {
		b[i] = (unsigned char)(hi >> (8 * i));
		b[8 + i] = (unsigned char)(lo >> (8 * i));
	}
	b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
	size_t o = 0;
	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 15];
	}
	out[o] = '\0';
}

struct row {
	char id[37];
	long long num_id;
	struct buf name, loc, title, badges_text;
	struct strvec badges;
	bool badges_null, hostile;
};

static const struct culture *pick_culture(struct rng *r)
{
	size_t k = rng_below(r, 1000);
	for (size_t i = 0; i < N(cultures); i++) {
		if (k < cultures[i].weight)
			return &cultures[i];
		k -= cultures[i].weight;
	}
	return &cultures[0];
}

static void put_compound(struct rng *r, struct buf *b, struct list pre, struct list suf)
{
	buf_puts(b, pick(r, pre));
	buf_puts(b, pick(r, suf));
}

static void put_family(struct rng *r, const struct culture *c, struct list fam, struct buf *b)
{
	static const struct list enp = LIST(en_prefix), ens = LIST(en_suffix);
	static const struct list dep = LIST(de_prefix), des = LIST(de_suffix);
	if ((c->flags & F_COMPOUND_EN) && rng_chance(r, 250))
		put_compound(r, b, enp, ens);
	else if ((c->flags & F_COMPOUND_DE) && rng_chance(r, 250))
		put_compound(r, b, dep, des);
	else
		buf_puts(b, pick_zipf(r, fam));
	if ((c->flags & F_DOUBLE) && rng_chance(r, 350)) {
		buf_putc(b, ' ');
		buf_puts(b, pick_zipf(r, fam));
	} else if ((c->flags & F_COMPOUND_EN) && rng_chance(r, 25)) {
		buf_putc(b, '-');
		buf_puts(b, pick_zipf(r, fam));
	}
}

static void gen_fullname(struct rng *r, const struct culture *c, struct buf *b)
{
	bool female = rng_chance(r, 500);
	struct list given = female && c->given_f.n ? c->given_f : c->given_m;
	struct list fam = female && c->family_f.n ? c->family_f : c->family_m;
	struct list mid = female && c->middle_f.n ? c->middle_f : c->middle_m;
	if (c->order == FAMILY_FIRST) {
		put_family(r, c, fam, b);
		buf_puts(b, c->sep);
		if (mid.n) {
			buf_puts(b, pick(r, mid));
			buf_puts(b, c->sep);
		}
		buf_puts(b, pick_zipf(r, given));
		return;
	}
	buf_puts(b, pick_zipf(r, given));
	if ((c->flags & F_INITIAL) && rng_chance(r, 80))
		buf_printf(b, " %c.", (char)('A' + rng_below(r, 26)));
	buf_puts(b, c->sep);
	put_family(r, c, fam, b);
}

static bool is_anchor_name(const char *s)
{
	for (size_t i = 0; i < N(anchors); i++)
		if (strcmp(s, anchors[i].fullname) == 0)
			return true;
	return false;
}

static void gen_location(struct rng *r, const struct culture *c, struct buf *b)
{
	static const struct list rem = LIST(remotes), off = LIST(offices);
	if (rng_chance(r, 120))
		buf_puts(b, pick_zipf(r, rem));
	else if (c->homes.n && rng_chance(r, 350))
		buf_puts(b, pick(r, c->homes));
	else
		buf_puts(b, pick_zipf(r, off));
}

static void gen_title(struct rng *r, const struct culture *c, struct buf *b)
{
	static const struct list tr = LIST(tech_roles), tl = LIST(tech_levels);
	static const struct list gr = LIST(gen_roles), gl = LIST(gen_levels);
	static const struct list mf = LIST(mgmt_forms), dp = LIST(departments);
	static const struct list pt = LIST(plain_titles);
	size_t k = rng_below(r, 1000);
	if (c->titles.n && rng_chance(r, 150)) {
		buf_puts(b, pick(r, c->titles));
	} else if (k < 500) {
		buf_puts(b, pick_zipf(r, tl));
		buf_puts(b, pick_zipf(r, tr));
	} else if (k < 800) {
		buf_puts(b, pick_zipf(r, gl));
		buf_puts(b, pick_zipf(r, gr));
	} else if (k < 920) {
		buf_puts(b, pick_zipf(r, mf));
		buf_puts(b, pick_zipf(r, dp));
	} else {
		buf_puts(b, pick_zipf(r, pt));
	}
}

static bool strvec_has(const struct strvec *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return true;
	return false;
}

static void gen_badges(struct rng *r, struct strvec *out)
{
	static const struct list bl = LIST(badge_names);
	size_t k = rng_below(r, 1000), n = 0;
	while (k >= badge_count_cdf[n])
		n++;
	while (out->n < n) {
		const char *b = pick_zipf(r, bl);
		if (!strvec_has(out, b))
			strvec_push(out, b);
	}
}

/* ---- hostile rows ---- */

/* Byte offset of code point k in s (or its length). */
static size_t utf8_offset(const char *s, size_t k)
{
	size_t n = strlen(s), i = 0;
	uint32_t cp;
	while (i < n && k-- > 0) {
		size_t l = utf8_decode(s + i, n - i, &cp);
		i += l ? l : 1;
	}
	return i;
}

static void clip_chars(struct buf *b, size_t max_chars)
{
	size_t off = utf8_offset(buf_str(b), max_chars);
	if (off < b->len) {
		b->len = off;
		b->data[off] = '\0';
	}
}

static void insert_at(struct buf *b, size_t off, const char *s)
{
	struct buf out = BUF_INIT;
	buf_append(&out, buf_str(b), off);
	buf_puts(&out, s);
	buf_puts(&out, buf_str(b) + off);
	buf_free(b);
	*b = out;
}

static void insert_random(struct rng *r, struct buf *b, const char *s)
{
	size_t chars = utf8_count(buf_str(b));
	insert_at(b, utf8_offset(buf_str(b), rng_below(r, chars + 1)), s);
}

static void combining_run(struct rng *r, struct buf *out)
{
	size_t n = 20 + rng_below(r, 50);
	char enc[4];
	for (size_t i = 0; i < n; i++)
		buf_append(out, enc, utf8_encode(0x300 + (uint32_t)rng_below(r, 0x70), enc));
}

static void hostile_text(struct rng *r, unsigned kind, struct buf *field)
{
	struct buf p = BUF_INIT;
	switch (kind) {
	case HK_COMBINING:
		combining_run(r, &p);
		insert_random(r, field, buf_str(&p));
		break;
	case HK_PADDING:
		insert_at(field, 0, "\u3000 ");
		buf_puts(field, " \u00a0");
		break;
	case HK_HOMOGLYPH: /* Cyrillic look-alike of the anchor */
		buf_reset(field);
		buf_puts(field, "\u0410d\u0430 L\u043Ev\u0435l\u0430\u0441\u0435");
		break;
	default:
		insert_random(r, field, hostile_payloads[kind]);
	}
	buf_free(&p);
}

static void make_hostile(struct rng *r, struct row *row)
{
	static const struct list bl = LIST(badge_names);
	unsigned attacks = rng_chance(r, 200) ? 2 : 1;
	for (unsigned a = 0; a < attacks; a++) {
		unsigned kind = (unsigned)rng_below(r, HK_COUNT);
		size_t where = rng_below(r, 100);
		if (kind == HK_HOMOGLYPH || where < 50) {
			hostile_text(r, kind, &row->name);
		} else if (where < 70) {
			hostile_text(r, kind, &row->title);
		} else if (where < 85) {
			hostile_text(r, kind, &row->loc);
		} else {
			struct buf badge = BUF_INIT;
			buf_puts(&badge, pick(r, bl));
			hostile_text(r, kind, &badge);
			clip_chars(&badge, EMP_BADGE_MAX_CHARS);
			strvec_push(&row->badges, buf_str(&badge));
			buf_free(&badge);
		}
	}
	clip_chars(&row->name, EMP_TEXT_MAX_CHARS);
	clip_chars(&row->title, EMP_TEXT_MAX_CHARS);
	clip_chars(&row->loc, EMP_TEXT_MAX_CHARS);
	row->hostile = true;
}

/* ---- rows ---- */

static void fill_anchor(struct row *row, const struct anchor *a)
{
	snprintf(row->id, sizeof row->id, "%s", a->id);
	buf_puts(&row->name, a->fullname);
	buf_puts(&row->loc, a->location);
	buf_puts(&row->title, a->job_title);
	for (const char *const *b = a->badges; *b; b++)
		strvec_push(&row->badges, *b);
}

static void fill_random(struct rng *r, struct row *row)
{
	const struct culture *c = pick_culture(r);
	do {
		buf_reset(&row->name);
		gen_fullname(r, c, &row->name);
	} while (is_anchor_name(buf_str(&row->name)));
	gen_location(r, c, &row->loc);
	gen_title(r, c, &row->title);
	gen_badges(r, &row->badges);
}

/* How the stored badges look: JSON, or in a legacy file half comma lists,
 * and no badges sometimes NULL. */
static void encode_badges(uint64_t seed, uint64_t index, bool legacy, struct row *row)
{
	struct rng r = row_rng(seed, index, S_LEGACY);
	enum badge_format fmt = legacy && rng_chance(&r, 500) ? BADGES_COMMA : BADGES_JSON;
	row->badges_null = legacy && row->badges.n == 0 && rng_chance(&r, 500);
	if (!row->badges_null)
		badges_encode(&row->badges, fmt, &row->badges_text);
}

static void gen_row(uint64_t seed, uint64_t index, bool hostile, bool legacy, struct row *row)
{
	struct rng r = row_rng(seed, index, S_CONTENT);
	buf_reset(&row->name);
	buf_reset(&row->loc);
	buf_reset(&row->title);
	buf_reset(&row->badges_text);
	strvec_clear(&row->badges);
	row->hostile = false;
	row->num_id = (long long)index + 1;
	uuid_from_rng(&r, row->id);
	if (index < N(anchors)) {
		fill_anchor(row, &anchors[index]);
	} else {
		fill_random(&r, row);
		struct rng h = row_rng(seed, index, S_HOSTILE);
		if (rng_chance(&h, HOSTILE_PER_MILLE) && hostile)
			make_hostile(&h, row);
	}
	encode_badges(seed, index, legacy, row);
}

static void row_free(struct row *row)
{
	buf_free(&row->name);
	buf_free(&row->loc);
	buf_free(&row->title);
	buf_free(&row->badges_text);
	strvec_free(&row->badges);
}

/* ---- --check ---- */

static bool check_text(const char *what, const char *s, char *why, size_t whysz)
{
	size_t n = utf8_count(s);
	if (n == (size_t)-1 || n > EMP_TEXT_MAX_CHARS) {
		snprintf(why, whysz, "%s is not valid UTF-8 of at most %d characters", what,
			 EMP_TEXT_MAX_CHARS);
		return false;
	}
	return true;
}

/* Every row fits the columns; a normal row also passes the contract as it is
 * and its stored badges read back as written. */
static bool check_row(const struct row *row, char *why, size_t whysz)
{
	if (!check_text("fullname", buf_str(&row->name), why, whysz) ||
	    !check_text("location", buf_str(&row->loc), why, whysz) ||
	    !check_text("job_title", buf_str(&row->title), why, whysz))
		return false;
	if (utf8_count(buf_str(&row->badges_text)) == (size_t)-1) {
		snprintf(why, whysz, "badges are not valid UTF-8");
		return false;
	}
	if (row->hostile)
		return true;
	struct employee e, orig;
	struct employee_problems p;
	struct strvec back = STRVEC_INIT;
	employee_init(&e);
	employee_set(&e, EF_FULLNAME, buf_str(&row->name));
	employee_set(&e, EF_LOCATION, buf_str(&row->loc));
	employee_set(&e, EF_JOB_TITLE, buf_str(&row->title));
	strvec_copy(&e.badges, &row->badges);
	employee_init(&orig);
	employee_copy(&orig, &e);
	bool ok = employee_normalize(&e, &p);
	for (int f = 0; !ok && f < EF_COUNT; f++)
		if (p.msg[f][0])
			snprintf(why, whysz, "%s %s", employee_field_key((enum employee_field)f), p.msg[f]);
	if (ok && !employee_same_content(&e, &orig)) {
		snprintf(why, whysz, "normalize changed it (untrimmed text)");
		ok = false;
	}
	badges_decode(row->badges_null ? NULL : buf_str(&row->badges_text), &back, NULL);
	if (ok && !strvec_equal(&back, &row->badges)) {
		snprintf(why, whysz, "stored badges do not read back");
		ok = false;
	}
	strvec_free(&back);
	employee_free(&e);
	employee_free(&orig);
	return ok;
}

/* ---- output ---- */

enum format { FMT_SQLITE, FMT_CSV };

struct options {
	uint64_t rows, seed;
	const char *out;
	enum format format;
	bool legacy, hostile, check, verbose;
};

struct sink {
	const struct options *opt;
	sqlite3 *db;
	sqlite3_stmt *ins;
	FILE *fp;
	struct buf line;
	bool created;
};

static const char *const create_sql =
	"CREATE TABLE employees(id varchar(36) primary key, fullname varchar(100) not null, "
	"location varchar(100) not null, job_title varchar(100) not null, badges text)";
static const char *const create_legacy_sql =
	"CREATE TABLE employees(id INTEGER PRIMARY KEY, fullname varchar(100) not null, "
	"location varchar(100) not null, job_title varchar(100) not null, badges text)";

static int fail_create(const char *path, int err)
{
	if (err == EEXIST) {
		fprintf(stderr, PROG ": cannot create %s: it already exists; "
			"remove it or choose another --out\n", path);
		return 2;
	}
	fprintf(stderr, PROG ": cannot create %s: %s\n", path, strerror(err));
	return 1;
}

static bool sql_ok(struct sink *s, int rc)
{
	if (rc == SQLITE_OK || rc == SQLITE_DONE)
		return true;
	fprintf(stderr, PROG ": cannot write %s: %s\n", s->opt->out, sqlite3_errmsg(s->db));
	return false;
}

static bool sql_exec(struct sink *s, const char *sql)
{
	return sql_ok(s, sqlite3_exec(s->db, sql, NULL, NULL, NULL));
}

/* Journal off and no syncs while building: a failed run removes the file. */
static int sqlite_open(struct sink *s)
{
	const char *path = s->opt->out;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail_create(path, errno);
	close(fd);
	s->created = true;
	if (!sql_ok(s, sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE, NULL)))
		return 1;
	/* 64 MiB of cache keeps the random-UUID primary key index in memory. */
	static const char *const setup =
		"PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; "
		"PRAGMA locking_mode=EXCLUSIVE; PRAGMA cache_size=-65536";
	static const char *const insert =
		"INSERT INTO employees(id, fullname, location, job_title, badges) "
		"VALUES(?1, ?2, ?3, ?4, ?5)";
	bool ok = sql_exec(s, setup) &&
		  sql_exec(s, s->opt->legacy ? create_legacy_sql : create_sql) &&
		  sql_exec(s, "BEGIN") &&
		  sql_ok(s, sqlite3_prepare_v2(s->db, insert, -1, &s->ins, NULL));
	return ok ? 0 : 1;
}

static void bind_buf(sqlite3_stmt *st, int i, const struct buf *b)
{
	sqlite3_bind_text(st, i, buf_str(b), (int)b->len, SQLITE_STATIC);
}

static bool sqlite_put(struct sink *s, const struct row *row)
{
	sqlite3_stmt *st = s->ins;
	if (s->opt->legacy)
		sqlite3_bind_int64(st, 1, row->num_id);
	else
		sqlite3_bind_text(st, 1, row->id, -1, SQLITE_STATIC);
	bind_buf(st, 2, &row->name);
	bind_buf(st, 3, &row->loc);
	bind_buf(st, 4, &row->title);
	if (row->badges_null)
		sqlite3_bind_null(st, 5);
	else
		bind_buf(st, 5, &row->badges_text);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return sql_ok(s, rc);
}

/* The journal mode stays DELETE: OFF only lasts for this connection. */
static bool sqlite_finish(struct sink *s)
{
	sqlite3_finalize(s->ins);
	s->ins = NULL;
	bool ok = sql_exec(s, "COMMIT");
	if (sqlite3_close(s->db) != SQLITE_OK && ok) {
		fprintf(stderr, PROG ": cannot close %s: %s\n", s->opt->out, sqlite3_errmsg(s->db));
		ok = false;
	}
	s->db = NULL;
	return ok;
}

static int csv_open(struct sink *s)
{
	const char *path = s->opt->out;
	if (strcmp(path, "-") == 0) {
		s->fp = stdout;
	} else {
		s->fp = fopen(path, "wx");
		if (!s->fp)
			return fail_create(path, errno);
		s->created = true;
	}
	setvbuf(s->fp, NULL, _IOFBF, 1 << 20);
	fputs("id,fullname,location,job_title,badges\r\n", s->fp);
	return 0;
}

/* RFC 4180. Empty text is quoted: COPY reads an unquoted empty field as NULL. */
static void csv_field(struct buf *out, const char *s, bool null)
{
	if (null)
		return;
	if (*s && !strpbrk(s, ",\"\r\n")) {
		buf_puts(out, s);
		return;
	}
	buf_putc(out, '"');
	for (; *s; s++) {
		if (*s == '"')
			buf_putc(out, '"');
		buf_putc(out, *s);
	}
	buf_putc(out, '"');
}

static bool csv_put(struct sink *s, const struct row *row)
{
	struct buf *l = &s->line;
	buf_reset(l);
	csv_field(l, row->id, false);
	buf_putc(l, ',');
	csv_field(l, buf_str(&row->name), false);
	buf_putc(l, ',');
	csv_field(l, buf_str(&row->loc), false);
	buf_putc(l, ',');
	csv_field(l, buf_str(&row->title), false);
	buf_putc(l, ',');
	csv_field(l, buf_str(&row->badges_text), row->badges_null);
	buf_puts(l, "\r\n");
	if (fwrite(buf_str(l), 1, l->len, s->fp) != l->len) {
		fprintf(stderr, PROG ": cannot write %s: %s\n", s->opt->out, strerror(errno));
		return false;
	}
	return true;
}

static bool csv_finish(struct sink *s)
{
	int err = 0;
	if (fflush(s->fp) != 0 || ferror(s->fp))
		err = errno ? errno : EIO;
	if (s->fp != stdout && fclose(s->fp) != 0 && !err)
		err = errno ? errno : EIO;
	s->fp = NULL;
	if (err)
		fprintf(stderr, PROG ": cannot write %s: %s\n", s->opt->out, strerror(err));
	return !err;
}

/* After a failure: close what is open and remove the half-written file. */
static void sink_abort(struct sink *s)
{
	if (s->ins)
		sqlite3_finalize(s->ins);
	if (s->db)
		sqlite3_close(s->db);
	if (s->fp && s->fp != stdout)
		fclose(s->fp);
	if (s->created)
		unlink(s->opt->out);
	buf_free(&s->line);
}

/* ---- main ---- */

struct stats {
	uint64_t hostile, non_ascii, checked;
};

static bool has_non_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

static bool emit_rows(struct sink *s, struct stats *st)
{
	const struct options *o = s->opt;
	struct row row = {.name = BUF_INIT, .loc = BUF_INIT, .title = BUF_INIT,
			  .badges_text = BUF_INIT, .badges = STRVEC_INIT};
	bool ok = true;
	for (uint64_t i = 0; ok && i < o->rows; i++) {
		gen_row(o->seed, i, o->hostile, o->legacy, &row);
		st->hostile += row.hostile;
		st->non_ascii += has_non_ascii(buf_str(&row.name));
		char why[200] = "";
		if (o->check && !check_row(&row, why, sizeof why)) {
			fprintf(stderr, PROG ": row %" PRIu64 " (%s) fails the check: %s\n", i + 1, row.id, why);
			ok = false;
		}
		st->checked += o->check;
		if (ok)
			ok = o->format == FMT_SQLITE ? sqlite_put(s, &row) : csv_put(s, &row);
	}
	row_free(&row);
	return ok;
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const struct options *o, const struct stats *st, double secs)
{
	struct stat sb;
	long long size = strcmp(o->out, "-") != 0 && stat(o->out, &sb) == 0 ? (long long)sb.st_size : -1;
	fprintf(stderr,
		PROG ": wrote %" PRIu64 " rows (%" PRIu64 " hostile, %" PRIu64 " non-ASCII names) "
		"to %s in %.2f s",
		o->rows, st->hostile, st->non_ascii, size < 0 ? "stdout" : o->out, secs);
	if (size >= 0)
		fprintf(stderr, ", %lld bytes", size);
	if (o->check)
		fprintf(stderr, "; %" PRIu64 " rows checked", st->checked);
	fputc('\n', stderr);
}

static int run(const struct options *o)
{
	struct sink s = {.opt = o, .line = BUF_INIT};
	struct stats st = {0, 0, 0};
	double t0 = now_seconds();
	int rc = o->format == FMT_SQLITE ? sqlite_open(&s) : csv_open(&s);
	if (rc != 0) {
		sink_abort(&s);
		return rc;
	}
	bool ok = emit_rows(&s, &st);
	if (ok)
		ok = o->format == FMT_SQLITE ? sqlite_finish(&s) : csv_finish(&s);
	if (!ok) {
		sink_abort(&s);
		return 1;
	}
	buf_free(&s.line);
	if (o->verbose)
		report(o, &st, now_seconds() - t0);
	return 0;
}

static void usage(FILE *f)
{
	fputs("usage: " PROG " --rows N --out FILE [options]\n"
	      "Write N realistic, deterministic employees for tests and demos.\n"
	      "\n"
	      "  --rows N         how many rows (0 to 1000000000); the first 9 are fixed anchors\n"
	      "  --out FILE       the file to create; it must not exist (\"-\": stdout, csv only)\n"
	      "  --seed S         PRNG seed, an unsigned integer (default 1); same seed, same rows\n"
	      "  --format F       sqlite (default): the deployed employees table\n"
	      "                   csv: RFC 4180 with a header, for COPY employees FROM ... CSV HEADER\n"
	      "  --legacy         sqlite only: integer ids, badges half comma-separated, some NULL\n"
	      "  --hostile        make about 1% of rows terminal and contract attacks\n"
	      "  --check          check every row: fits the columns, and non-hostile rows pass\n"
	      "                   the contract's validation unchanged\n"
	      "  --verbose        report rows, time and size on stderr\n"
	      "  --help           show this help\n"
	      "\n"
	      "Exit status: 0 done, 1 runtime error, 2 usage error or --out exists.\n",
	      f);
}

static int usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, PROG ": %s%s; see " PROG " --help\n", msg, arg ? arg : "");
	return 2;
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

static int parse_format(const char *s, enum format *f)
{
	if (strcmp(s, "sqlite") == 0)
		*f = FMT_SQLITE;
	else if (strcmp(s, "csv") == 0)
		*f = FMT_CSV;
	else if (strcmp(s, "sql") == 0)
		return usage_error("--format sql is not supported; use sqlite or csv", NULL);
	else
		return usage_error("unknown --format: ", s);
	return 0;
}

enum {
	OPT_ROWS = 256, OPT_SEED, OPT_OUT, OPT_FORMAT, OPT_LEGACY, OPT_HOSTILE, OPT_CHECK,
	OPT_VERBOSE, OPT_HELP
};

static const struct option long_opts[] = {
	{"rows", required_argument, NULL, OPT_ROWS}, {"seed", required_argument, NULL, OPT_SEED},
	{"out", required_argument, NULL, OPT_OUT}, {"format", required_argument, NULL, OPT_FORMAT},
	{"legacy", no_argument, NULL, OPT_LEGACY}, {"hostile", no_argument, NULL, OPT_HOSTILE},
	{"check", no_argument, NULL, OPT_CHECK}, {"verbose", no_argument, NULL, OPT_VERBOSE},
	{"help", no_argument, NULL, OPT_HELP}, {NULL, 0, NULL, 0},
};

/* Returns -1 to go on, else the exit status. */
static int parse_option(int c, struct options *o, bool *have_rows)
{
	switch (c) {
	case OPT_ROWS:
		*have_rows = true;
		if (!parse_u64(optarg, MAX_ROWS, &o->rows))
			return usage_error("--rows wants a number from 0 to 1000000000, not ", optarg);
		return -1;
	case OPT_SEED:
		if (!parse_u64(optarg, UINT64_MAX, &o->seed))
			return usage_error("--seed wants an unsigned integer, not ", optarg);
		return -1;
	case OPT_OUT: o->out = optarg; return -1;
	case OPT_FORMAT: return parse_format(optarg, &o->format) ? 2 : -1;
	case OPT_LEGACY: o->legacy = true; return -1;
	case OPT_HOSTILE: o->hostile = true; return -1;
	case OPT_CHECK: o->check = true; return -1;
	case OPT_VERBOSE: o->verbose = true; return -1;
	case OPT_HELP: usage(stdout); return 0;
	default: return usage_error("unknown option or missing value: ", NULL);
	}
}

static int parse_args(int argc, char **argv, struct options *o)
{
	bool have_rows = false;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		if (c == '?' || c == ':')
			return usage_error("unknown option or missing value: ", argv[optind - 1]);
		int rc = parse_option(c, o, &have_rows);
		if (rc >= 0)
			return rc;
	}
	if (optind < argc)
		return usage_error("unexpected argument: ", argv[optind]);
	if (!have_rows)
		return usage_error("--rows is required", NULL);
	if (!o->out || !*o->out)
		return usage_error("--out is required", NULL);
	if (o->legacy && o->format != FMT_SQLITE)
		return usage_error("--legacy only applies to --format sqlite", NULL);
	if (o->format == FMT_SQLITE && strcmp(o->out, "-") == 0)
		return usage_error("--out - (stdout) only works with --format csv", NULL);
	return -1;
}

int main(int argc, char **argv)
{
	struct options o = {.seed = 1, .format = FMT_SQLITE};
	int rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	return run(&o);
}
